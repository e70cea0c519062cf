package io.readside.commands;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

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
 * POST /orders through the outbox, the relay and the orders projector on a real broker and a real PostgreSQL, read
 * back with the consistency token; idempotency keys; bad commands.
 */
@QuarkusTest
@TestProfile(CommandsInfrastructure.class)
class OrderCommandsEndToEndTest {

    @Inject
    Pool pool;

    static Response place(String body) {
        return given().contentType(ContentType.JSON).body(body).post("/orders");
    }

    static String order(long userId, String category, String sku, int qty, String price) {
        return """
                {"user_id":%d,"category":"%s","items":[{"sku":"%s","qty":%d,"price":"%s"}]}"""
                .formatted(userId, category, sku, qty, price);
    }

    @Test
    void postedOrderIsReadableAtOnceWithItsConsistencyToken() {
        Response accepted = place(order(710_001, "books", "b-1", 2, "6.25"));
        accepted.then().statusCode(202)
                .header(ConsistencyToken.HEADER, startsWith("outbox:"))
                .body("consistency_token", equalTo(accepted.header(ConsistencyToken.HEADER)));
        String orderId = accepted.jsonPath().getString("order_id");
        assertEquals("/orders/" + orderId, accepted.jsonPath().getString("location"));
        assertTrue(accepted.header("Location").endsWith("/orders/" + orderId), accepted.header("Location"));

        Response read = given().header(ConsistencyToken.HEADER, accepted.header(ConsistencyToken.HEADER))
                .get("/orders/" + orderId);
        read.then().statusCode(200)
                .body("order_id", equalTo(orderId))
                .body("user_id", equalTo(710_001))
                .body("category", equalTo("books"))
                .body("item_count", equalTo(2))
                .body("status", equalTo("PENDING"));
        assertEquals(0, new BigDecimal("12.50").compareTo(new BigDecimal(read.jsonPath().getString("total"))));

        // the query parameter works the same, on the other read models the order feeds as well
        String token = accepted.jsonPath().getString("consistency_token");
        given().queryParam(ConsistencyToken.QUERY_PARAMETER, token).get("/orders").then().statusCode(200);
        given().queryParam(ConsistencyToken.QUERY_PARAMETER, token).queryParam("userId", 710_001)
                .get("/orders").then().statusCode(200).body("orders.order_id", hasItems(orderId));
    }

    @Test
    void orderWithATotalAndNoPricesIsAccepted() {
        Response accepted = place("""
                {"user_id":710002,"category":"games","items":[{"sku":"g-1","qty":3}],"total":"30.00"}""");
        accepted.then().statusCode(202);
        given().header(ConsistencyToken.HEADER, accepted.header(ConsistencyToken.HEADER))
                .get(accepted.header("Location")).then().statusCode(200).body("item_count", equalTo(3))
                .body("total", equalTo(30.0f));
        place("""
                {"user_id":710002,"category":"games","total":5}""").then().statusCode(202);
    }

    @Test
    void retriedPostWithTheSameIdempotencyKeyReturnsTheFirstOrder() {
        String body = order(710_003, "music", "m-1", 1, "9.99");
        Response first = given().contentType(ContentType.JSON).header(OrderCommandsResource.IDEMPOTENCY_KEY, "k-710003")
                .body(body).post("/orders");
        first.then().statusCode(202);
        Response retry = given().contentType(ContentType.JSON).header(OrderCommandsResource.IDEMPOTENCY_KEY, "k-710003")
                .body(body).post("/orders");
        retry.then().statusCode(202).header("Idempotent-Replayed", "true")
                .body("order_id", equalTo(first.jsonPath().getString("order_id")))
                .body("consistency_token", equalTo(first.jsonPath().getString("consistency_token")));

        // ten at once with one key: one order
        Set<String> ids = IntStream.range(0, 10).mapToObj(i -> CompletableFuture.supplyAsync(() -> given()
                .contentType(ContentType.JSON).header(OrderCommandsResource.IDEMPOTENCY_KEY, "k-710003-concurrent")
                .body(body).post("/orders").then().statusCode(202).extract().jsonPath().getString("order_id")))
                .toList().stream().map(CompletableFuture::join).collect(Collectors.toSet());
        assertEquals(1, ids.size(), ids.toString());

        given().queryParam(ConsistencyToken.QUERY_PARAMETER, first.jsonPath().getString("consistency_token"))
                .queryParam("userId", 710_003).get("/orders").then().statusCode(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> count(
                "SELECT count(*) FROM orders WHERE user_id = $1", 710_003L) == 2);
        assertEquals(2, count("SELECT count(*) FROM outbox WHERE event_type = 'order.created' AND payload LIKE $1",
                "%\"user_id\":710003%"), "one event per key");

        // the same key for another request is refused, and nothing is written
        given().contentType(ContentType.JSON).header(OrderCommandsResource.IDEMPOTENCY_KEY, "k-710003")
                .body(order(710_003, "music", "m-1", 2, "9.99")).post("/orders")
                .then().statusCode(422).contentType("application/problem+json")
                .body("detail", containsString("k-710003"));
        assertEquals(2, count("SELECT count(*) FROM outbox WHERE event_type = 'order.created' AND payload LIKE $1",
                "%\"user_id\":710003%"));
    }

    @Test
    void badCommandsAre400sNamingEachBadField() {
        place("""
                {"user_id":-1,"category":"","items":[{"sku":"a","qty":0,"price":"1.234"},{"qty":1,"price":-2}],
                 "colour":"red"}""")
                .then().statusCode(400).contentType("application/problem+json")
                .body("errors.field", hasItems("user_id", "category", "items[0].qty", "items[0].price",
                        "items[1].sku", "items[1].price", "colour"));
        place("{\"user_id\":1,\"category\":\"x\"}").then().statusCode(400)
                .body("errors[0].field", equalTo("total"))
                .body("errors[0].message", containsString("give items or a total"));
        place(order(1, "x", "a", 2, "1.00").replace("}]}", "}],\"total\":3}")).then().statusCode(400)
                .body("errors[0].message", containsString("the items add up to 2.00"));
        place("{\"user_id\":1,\"category\":\"x\",\"total\":2000000}").then().statusCode(400)
                .body("errors[0].message", containsString("above the maximum"));
        place("{\"user_id\":1,").then().statusCode(400).body("detail", containsString("not valid JSON"));
        place("[1,2]").then().statusCode(400).body("detail", containsString("JSON object"));
        given().contentType(ContentType.JSON).header(OrderCommandsResource.IDEMPOTENCY_KEY, "x".repeat(201))
                .body(order(1, "x", "a", 1, "1.00")).post("/orders").then().statusCode(400)
                .body("detail", containsString("Idempotency-Key"));
        given().contentType(ContentType.JSON).post("/orders/no-such-order/cancel").then().statusCode(404)
                .contentType("application/problem+json");
        // nothing of it reached the outbox, and the service still takes good commands
        assertEquals(0, count("SELECT count(*) FROM outbox WHERE payload LIKE $1", "%\"category\":\"x\"%"));
        place(order(710_004, "toys", "t-1", 1, "1.00")).then().statusCode(202);
    }

    @Test
    void whatTheProjectorWouldRefuseIsA400UpFrontNeverA202OrA500() {
        String[] totals = { "\"1e100000000\"", "1e100000000", "1e400", "-1e2000000", "12.500000000000000001",
                "1e-400", "6.2500000000000001", "\"" + "1".repeat(41) + "\"", "\"\\u0661\\u0662\"", "\" 12\"" };
        for (String total : totals) {
            place("{\"user_id\":710005,\"category\":\"hostile\",\"total\":" + total + "}").then()
                    .statusCode(400).contentType("application/problem+json")
                    .body("errors[0].field", equalTo("total"));
        }
        // an exponent beyond an int is not even JSON Readside reads: 400, never a 500
        place("{\"user_id\":710005,\"category\":\"hostile\",\"total\":1e2147483648}").then().statusCode(400)
                .contentType("application/problem+json");
        place("{\"user_id\":710005,\"category\":\"hostile\",\"total\":1,\"total\":2}").then().statusCode(400);
        for (String category : new String[] { "bo\\u0000oks", "\\udc00", "x\\ud800y" }) {
            place("{\"user_id\":710005,\"category\":\"" + category + "\",\"total\":1}").then()
                    .statusCode(400).body("errors[0].field", equalTo("category"));
        }
        // a body just under 64 KiB whose event (with its order id, event id, type and time) would exceed the
        // projector's 64 KiB: refused here too, not accepted and then dead-lettered
        StringBuilder body = new StringBuilder("{\"user_id\":710005,\"category\":\"hostile\",\"total\":1,\"items\":[");
        int target = 65_536 - 40;
        while (target - body.length() - 20 > 100) { // the last item's sku gets 32..100 characters
            body.append("{\"sku\":\"").append("s".repeat(50)).append("\",\"qty\":1},");
        }
        body.append("{\"sku\":\"").append("s".repeat(target - body.length() - 20)).append("\",\"qty\":1}]}");
        assertTrue(body.length() <= 65_536 && body.length() > 65_536 - 100, "size " + body.length());
        place(body.toString()).then()
                .statusCode(400).body("detail", containsString("would be refused by the read model"));
        assertEquals(0, count("SELECT count(*) FROM outbox WHERE payload LIKE $1", "%\"user_id\":710005%"));

        Response accepted = place("{\"user_id\":710006,\"category\":\"exact\",\"total\":12.50000}");
        accepted.then().statusCode(202);
        Response read = given().header(ConsistencyToken.HEADER, accepted.header(ConsistencyToken.HEADER))
                .get("/orders/" + accepted.jsonPath().getString("order_id"));
        read.then().statusCode(200);
        assertEquals(0, new BigDecimal("12.50").compareTo(new BigDecimal(read.jsonPath().getString("total"))));
    }

    @Test
    void tokensThatCannotBeHonouredAre400s() {
        for (String bad : List.of("nonsense", "outbox:-1", "orders:x:1", "outbox:999999999999")) {
            given().header(ConsistencyToken.HEADER, bad).get("/orders").then().statusCode(400)
                    .contentType("application/problem+json");
        }
        given().header(ConsistencyToken.HEADER, "user-events:0:0").get("/revenue/top?from=2025-01-01T00:00:00Z"
                + "&to=2025-01-02T00:00:00Z").then().statusCode(400).body("detail", containsString("user-events"));
    }

    private long count(String sql, Object parameter) {
        return pool.preparedQuery(sql).execute(Tuple.of(parameter)).await().indefinitely().iterator().next()
                .getLong(0);
    }
}
