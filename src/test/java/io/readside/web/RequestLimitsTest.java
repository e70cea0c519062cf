package io.readside.web;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.CommandsInfrastructure;
import io.restassured.http.ContentType;

/**
 * Every size limit of a request answers with a problem body before a route reads the request: the request line
 * (414), the headers (431), a declared body and a chunked body (413). Just under each limit the request is served.
 */
@QuarkusTest
@TestProfile(CommandsInfrastructure.class)
class RequestLimitsTest {

    private static final int MAX_REQUEST_LINE = 16384;
    private static final int MAX_HEADERS = 16 * 1024;
    private static final int MAX_BODY = 64 * 1024;

    @Test
    void requestLineOverTheLimitIsA414ProblemThatDoesNotQuoteIt() {
        given().urlEncodingEnabled(false).get("/orders/" + "x".repeat(MAX_REQUEST_LINE)).then().statusCode(414)
                .contentType(Problem.MEDIA_TYPE).body("status", equalTo(414))
                .body("detail", allOf(containsString("at most 16384"),
                        containsString("readside.http.max-request-line-length"), not(containsString("xxxxxxxxxx"))));
        given().urlEncodingEnabled(false).get("/users?limit=10&after=" + "9".repeat(MAX_REQUEST_LINE)).then()
                .statusCode(414).contentType(Problem.MEDIA_TYPE);
    }

    @Test
    void requestLineJustUnderTheLimitReachesTheResource() {
        // "GET /orders/" + id + " HTTP/1.1" is 16384 characters: the resource answers, naming the parameter
        String id = "x".repeat(MAX_REQUEST_LINE - "GET /orders/ HTTP/1.1".length());
        given().urlEncodingEnabled(false).get("/orders/" + id).then().statusCode(400)
                .body("detail", containsString("'orderId'"));
    }

    @Test
    void headersOverTheLimitAreA431Problem() {
        given().header("X-Padding", "p".repeat(MAX_HEADERS)).get("/orders/o-1").then().statusCode(431)
                .contentType(Problem.MEDIA_TYPE).body("status", equalTo(431))
                .body("detail", allOf(containsString("readside.http.max-header-size"), not(containsString("ppppp"))));
        given().header("X-Padding", "p".repeat(MAX_HEADERS - 1024)).get("/orders/no-such-order").then()
                .statusCode(404);
    }

    @Test
    void declaredBodyOverTheLimitIsA413ProblemBeforeItIsRead() {
        byte[] body = order(MAX_BODY + 1);
        given().contentType(ContentType.JSON).body(body).post("/orders").then().statusCode(413)
                .contentType(Problem.MEDIA_TYPE).body("status", equalTo(413))
                .body("detail", allOf(containsString("65537 bytes"), containsString("at most 65536")));
        // far over: answered, and the connection closed after the answer
        given().contentType(ContentType.JSON).body(order(900 * 1024)).post("/orders").then().statusCode(413)
                .contentType(Problem.MEDIA_TYPE);
    }

    @Test
    void chunkedBodyOverTheLimitIsA413Problem() {
        // an InputStream of unknown length goes chunked, without Content-Length
        given().contentType(ContentType.JSON).body(new ByteArrayInputStream(order(MAX_BODY * 2))).post("/orders")
                .then().statusCode(413).contentType(Problem.MEDIA_TYPE).body("status", equalTo(413))
                .body("detail", containsString("quarkus.http.limits.max-body-size"));
    }

    @Test
    void bodyAtTheLimitIsAccepted() {
        given().contentType(ContentType.JSON).body(order(MAX_BODY)).post("/orders").then().statusCode(202);
        given().contentType(ContentType.JSON).body(new ByteArrayInputStream(order(MAX_BODY))).post("/orders").then()
                .statusCode(202);
    }

    /** A valid order padded with spaces to exactly {@code size} bytes. */
    private static byte[] order(int size) {
        String order = "{\"user_id\":750001,\"category\":\"books\",\"total\":\"1.00\"}";
        return (order.substring(0, order.length() - 1) + " ".repeat(size - order.length()) + "}")
                .getBytes(StandardCharsets.UTF_8);
    }
}
