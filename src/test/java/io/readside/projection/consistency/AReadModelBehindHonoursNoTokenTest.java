package io.readside.projection.consistency;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.ReadModelsHeldStill;
import io.restassured.http.ContentType;
import io.vertx.mutiny.sqlclient.Pool;

/**
 * A consistency token is honoured only by read models that are up to date with the orders they derive from: a read
 * model stopped on a failure, or new and not filled yet, answers a read with a token 503 (Retry-After), never an
 * answer that may lack the write; without a token it answers what it has.
 */
@QuarkusTest
@TestProfile(ReadModelsHeldStill.class)
class AReadModelBehindHonoursNoTokenTest {

    @Inject
    Pool pool;

    @Test
    void aStoppedOrUnfilledReadModelAnswersATokenWith503AndItsAnswerOnceUpToDate() {
        String token = given().contentType(ContentType.JSON).body("""
                {"user_id":740001,"category":"books","items":[{"sku":"behind-1","qty":2,"price":"3.00"}]}""")
                .post("/orders").then().statusCode(202).extract().header(ConsistencyToken.HEADER);
        given().header(ConsistencyToken.HEADER, token).get("/skus/behind-1").then().statusCode(200)
                .body("units", equalTo(2));

        sql("INSERT INTO read_model_stops (model, stopped_at, reason, stopped_on, last_attempt) "
                + "VALUES ('skus', now(), 'a test', 'orders-0@0', now())");
        given().header(ConsistencyToken.HEADER, token).get("/skus/behind-1").then().statusCode(503)
                .header("Retry-After", "60").contentType("application/problem+json")
                .body("detail", containsString("read model skus is stopped"));
        given().get("/skus/behind-1").then().statusCode(200); // no token: what it has
        given().header(ConsistencyToken.HEADER, token).get("/revenue/top?from=2025-01-01T00:00:00Z"
                + "&to=2025-01-02T00:00:00Z").then().statusCode(200); // the others answer
        sql("DELETE FROM read_model_stops WHERE model = 'skus'");

        sql("UPDATE read_models SET filled_at = NULL WHERE model = 'skus'");
        given().header(ConsistencyToken.HEADER, token).get("/skus/behind-1").then().statusCode(503)
                .body("detail", containsString("read model skus is new and not filled yet"));
        sql("UPDATE read_models SET filled_at = now() WHERE model = 'skus'");

        given().header(ConsistencyToken.HEADER, token).get("/skus/behind-1").then().statusCode(200);
    }

    private void sql(String statement) {
        pool.query(statement).execute().await().indefinitely();
    }
}
