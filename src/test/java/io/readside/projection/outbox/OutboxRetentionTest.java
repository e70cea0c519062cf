package io.readside.projection.outbox;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.commands.rest.OrderCommandsResource;
import io.readside.projection.consistency.ConsistencyToken;
import io.readside.testing.CommandsInfrastructure;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * What the retention removes, and what callers see afterwards: a token of a deleted row counts as applied, and an
 * idempotency key past its retention makes a new order. (The relay runs the deletion once a minute with the
 * configured retentions; here it is called with zero.)
 */
@QuarkusTest
@TestProfile(CommandsInfrastructure.class)
class OutboxRetentionTest {

    private static final String BODY = "{\"user_id\":730001,\"category\":\"books\",\"total\":\"4.00\"}";

    @Inject
    OutboxRelay relay;
    @Inject
    Pool pool;

    @Test
    void publishedRowsAndIdempotencyKeysGoAfterTheirRetention() {
        Response accepted = post("k-730001");
        String token = accepted.header(ConsistencyToken.HEADER);
        long id = Long.parseLong(token.substring("outbox:".length()));
        given().header(ConsistencyToken.HEADER, token).get(accepted.header("Location")).then().statusCode(200);

        int[] deleted = relay.deleteExpired(Duration.ZERO, Duration.ZERO);
        assertTrue(deleted[0] >= 1 && deleted[1] >= 1, deleted[0] + " rows, " + deleted[1] + " keys");
        assertEquals(0, count("SELECT count(*) FROM outbox WHERE id = $1", id));

        // the token of a deleted row: applied long ago
        given().header(ConsistencyToken.HEADER, token).get(accepted.header("Location")).then().statusCode(200);
        // the key is forgotten: the same request makes a new order
        post("k-730001").then().body("order_id", not(equalTo(accepted.jsonPath().getString("order_id"))));
    }

    private static Response post(String key) {
        Response response = given().contentType(ContentType.JSON).header(OrderCommandsResource.IDEMPOTENCY_KEY, key)
                .body(BODY).post("/orders");
        response.then().statusCode(202);
        return response;
    }

    private long count(String sql, long id) {
        return pool.preparedQuery(sql).execute(Tuple.of(id)).await().indefinitely().iterator().next().getLong(0);
    }
}
