package io.readside.testing;

import io.quarkus.test.junit.callback.QuarkusTestBeforeEachCallback;
import io.quarkus.test.junit.callback.QuarkusTestMethodContext;
import io.restassured.RestAssured;
import io.restassured.builder.RequestSpecBuilder;
import io.restassured.config.HeaderConfig;

/**
 * Every {@code @QuarkusTest} calls the API with {@link Tokens#operator()} (all roles) unless its class is annotated
 * {@link SignsItsOwnTokens}; a request's own {@code Authorization} header replaces it. The tests about who may do what
 * are the annotated ones.
 */
public class OperatorTokens implements QuarkusTestBeforeEachCallback {

    private static final String OPERATOR = Tokens.bearer(Tokens.operator());

    @Override
    public void beforeEach(QuarkusTestMethodContext context) {
        RestAssured.config = RestAssured.config().headerConfig(
                HeaderConfig.headerConfig().overwriteHeadersWithName("Authorization", "Content-Type", "Accept"));
        boolean own = context.getTestInstance().getClass().isAnnotationPresent(SignsItsOwnTokens.class);
        RestAssured.requestSpecification = own ? null
                : new RequestSpecBuilder().addHeader("Authorization", OPERATOR).build();
    }
}
