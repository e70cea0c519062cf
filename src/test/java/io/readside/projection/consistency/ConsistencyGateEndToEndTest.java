package io.readside.projection.consistency;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.CommandsInfrastructure;
import io.readside.testing.Contracts;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * A consistency token that was never issued is a 400 at once; one that was issued and is not applied yet is waited
 * for, and past the bound answered 503 with Retry-After.
 */
@QuarkusTest
@TestProfile(CommandsInfrastructure.class)
class ConsistencyGateEndToEndTest {

    /** OutboxRelay publishes only while it holds this lock (per batch); a session holding it stops the relay. */
    private static final String HOLD_THE_RELAY = "SELECT pg_advisory_lock(hashtext('readside-outbox-relay'))";
    private static final String RELEASE_THE_RELAY = "SELECT pg_advisory_unlock(hashtext('readside-outbox-relay'))";

    @Inject
    Pool pool;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void tokenNamingAPartitionThatDoesNotExistIsABadRequestNotAWait() {
        placedAndRead(730_001);
        given().header(ConsistencyToken.HEADER, "orders:7:0").get("/orders").then().statusCode(400)
                .contentType("application/problem+json").body("detail", containsString("has 3 partitions"));
        given().queryParam(ConsistencyToken.QUERY_PARAMETER, "orders:2147483647:0").get("/users/1").then()
                .statusCode(400);
    }

    @Test
    void tokenBeyondThePartitionsLogEndIsABadRequestNotAWait() {
        placedAndRead(730_002);
        given().header(ConsistencyToken.HEADER, "orders:0:999999999999").get("/orders").then().statusCode(400)
                .body("detail", containsString("ends before offset"));
        given().header(ConsistencyToken.HEADER, "orders:1:" + Long.MAX_VALUE).get("/revenue/top"
                + "?from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z").then().statusCode(400);
    }

    @Test
    void tokenOfARecordJustProducedIsWaitedForNotRefused() throws Exception {
        RecordMetadata sent;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers, ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new StringSerializer())) {
            sent = producer.send(new ProducerRecord<>("orders", "gate-just-produced", Contracts.valid("orders", """
                    {"order_id":"gate-just-produced","user_id":730003,"category":"books","total":4.50,"timestamp":%d}"""
                    .formatted(Instant.now().getEpochSecond())))).get();
        }
        String token = "orders:" + sent.partition() + ":" + sent.offset();
        given().header(ConsistencyToken.HEADER, token).get("/orders/gate-just-produced").then().statusCode(200)
                .body("user_id", equalTo(730_003));
        // the list (another statement) after the same wait
        given().queryParam(ConsistencyToken.QUERY_PARAMETER, token).queryParam("userId", 730_003).get("/orders")
                .then().statusCode(200).body("orders[0].order_id", equalTo("gate-just-produced"));
    }

    @Test
    void outboxTokenNeverIssuedIsABadRequest() {
        long issued = Long.parseLong(placedAndRead(730_004).substring("outbox:".length()));
        given().header(ConsistencyToken.HEADER, "outbox:" + (issued + 1_000_000)).get("/orders").then().statusCode(400)
                .body("detail", containsString("never issued"));
    }

    @Test
    void tokenIssuedButNotYetAppliedWaitsAndAnswers503WithRetryAfter() {
        SqlConnection relayHolder = pool.getConnection().await().indefinitely();
        String token;
        try {
            relayHolder.query(HOLD_THE_RELAY).execute().await().indefinitely();
            token = place(730_005).header(ConsistencyToken.HEADER);
            given().header(ConsistencyToken.HEADER, token).get("/orders").then().statusCode(503)
                    .contentType("application/problem+json").header("Retry-After", "1")
                    .body("detail", containsString(token));
        } finally {
            relayHolder.query(RELEASE_THE_RELAY).execute().await().indefinitely();
            relayHolder.closeAndAwait();
        }
        given().header(ConsistencyToken.HEADER, token).queryParam("userId", 730_005).get("/orders").then()
                .statusCode(200).body("orders.size()", equalTo(1));
    }

    private static Response place(long userId) {
        Response accepted = given().contentType(ContentType.JSON)
                .body("{\"user_id\":" + userId + ",\"category\":\"books\",\"total\":\"2.00\"}").post("/orders");
        accepted.then().statusCode(202);
        return accepted;
    }

    /** Places an order and reads it back (so the orders topic exists and has records); its token. */
    private static String placedAndRead(long userId) {
        String token = place(userId).header(ConsistencyToken.HEADER);
        given().header(ConsistencyToken.HEADER, token).queryParam("userId", userId).get("/orders").then()
                .statusCode(200);
        return token;
    }

    /**
     * Writers at once, each reading its own write with its token: every read finds it. (A wait that joined while the
     * shared poll was running used to be released as if its outbox row were gone: a 404 for the caller's own order.)
     */
    @Test
    void concurrentWritersEachReadTheirOwnWrite() throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> reads = new ArrayList<>();
            for (int i = 0; i < 160; i++) {
                reads.add(clients.submit(() -> {
                    Response placed = given().contentType(ContentType.JSON)
                            .body("{\"user_id\":720001,\"category\":\"books\",\"total\":\"2.00\"}").post("/orders");
                    placed.then().statusCode(202);
                    Response read = given().header(ConsistencyToken.HEADER, placed.header(ConsistencyToken.HEADER))
                            .get(placed.jsonPath().getString("location"));
                    return read.statusCode() + " " + java.util.Objects.equals(read.jsonPath().getString("order_id"),
                            placed.jsonPath().getString("order_id"));
                }));
            }
            for (Future<String> read : reads) {
                assertEquals("200 true", read.get(2, TimeUnit.MINUTES));
            }
        } finally {
            clients.shutdownNow();
        }
    }
}
