package io.readside.testing;

import java.util.ArrayList;
import java.util.List;

import io.quarkus.test.junit.callback.QuarkusTestBeforeEachCallback;
import io.quarkus.test.junit.callback.QuarkusTestMethodContext;
import io.restassured.RestAssured;
import io.restassured.filter.Filter;

/**
 * Every {@code @QuarkusTest} calls the API with {@link Tokens#operator()} (all roles) unless its class is annotated
 * {@link SignsItsOwnTokens}; a request that sets its own {@code Authorization} header keeps it. The tests about who
 * may do what are the annotated ones.
 */
public class OperatorTokens implements QuarkusTestBeforeEachCallback {

    private static final String OPERATOR = Tokens.bearer(Tokens.operator());
    private static final Filter AS_OPERATOR = (request, response, context) -> {
        if (!request.getHeaders().hasHeaderWithName("Authorization")) {
            request.header("Authorization", OPERATOR);
        }
        return context.next(request, response);
    };

    @Override
    public void beforeEach(QuarkusTestMethodContext context) {
        List<Filter> filters = new ArrayList<>(RestAssured.filters());
        filters.remove(AS_OPERATOR);
        if (!context.getTestInstance().getClass().isAnnotationPresent(SignsItsOwnTokens.class)) {
            filters.add(AS_OPERATOR);
        }
        RestAssured.replaceFiltersWith(filters);
    }
}
