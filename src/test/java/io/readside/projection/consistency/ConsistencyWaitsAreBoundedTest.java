package io.readside.projection.consistency;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
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
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.CappedConsistencyWaits;
import io.readside.testing.HeldRelay;
import io.readside.testing.Tokens;
import io.readside.web.Problem;
import io.restassured.http.ContentType;
import io.vertx.mutiny.sqlclient.Pool;

/**
 * Waits for consistency tokens are bounded work: 100 of them, for a write that cannot be applied while they wait,
 * hold no pool connection and do not stop the projectors; one more than the cap is answered 503 at once.
 */
@QuarkusTest
@TestProfile(CappedConsistencyWaits.class)
class ConsistencyWaitsAreBoundedTest {

    private static final long WAITING_USER = 740_001;
    private static final Duration GENEROUS = Duration.ofMinutes(2);

    @Inject
    Pool pool;
    @Inject
    ConsistencyGate gate;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void hundredUnsatisfiableWaitsNeitherExhaustThePoolNorStopTheOrdersChannelAndOneMoreIsA503() throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(CappedConsistencyWaits.MAX_WAITS);
        List<Future<Integer>> waits = new ArrayList<>();
        try (HeldRelay relay = HeldRelay.hold(pool)) {
            // an issued token whose event the relay cannot publish: nothing can satisfy it until the lock goes
            String token = given().contentType(ContentType.JSON)
                    .body("{\"user_id\":" + WAITING_USER + ",\"category\":\"books\",\"total\":\"3.00\"}")
                    .post("/orders").then().statusCode(202).extract().header(ConsistencyToken.HEADER);

            // one caller holds as many places as it may (the test's own token)
            for (int i = 0; i < CappedConsistencyWaits.MAX_WAITS_PER_CALLER; i++) {
                waits.add(clients.submit(() -> given().header(ConsistencyToken.HEADER, token)
                        .queryParam("userId", WAITING_USER).get("/orders").then().statusCode(200)
                        .body("orders.size()", equalTo(1)).extract().statusCode()));
            }
            await().atMost(GENEROUS).until(() -> gate.waitsInProgress() == CappedConsistencyWaits.MAX_WAITS_PER_CALLER);
            // its next one is refused at once, while others may still wait
            given().header(ConsistencyToken.HEADER, token).get("/orders/anything").then().statusCode(503)
                    .contentType(Problem.MEDIA_TYPE).header("Retry-After", "1")
                    .body("detail", containsString("this caller"));
            String second = Tokens.bearer(Tokens.service("second-reader", "readside-reader"));
            for (int i = CappedConsistencyWaits.MAX_WAITS_PER_CALLER; i < CappedConsistencyWaits.MAX_WAITS; i++) {
                waits.add(clients.submit(() -> given().header("Authorization", second)
                        .header(ConsistencyToken.HEADER, token).queryParam("userId", WAITING_USER).get("/orders")
                        .then().statusCode(200).body("orders.size()", equalTo(1)).extract().statusCode()));
            }
            await().atMost(GENEROUS).until(() -> gate.waitsInProgress() == CappedConsistencyWaits.MAX_WAITS);

            // past the cap: refused at once, not queued
            given().header("Authorization", Tokens.bearer(Tokens.service("third-reader", "readside-reader")))
                    .header(ConsistencyToken.HEADER, token).get("/orders/anything").then().statusCode(503)
                    .contentType(Problem.MEDIA_TYPE).header("Retry-After", "1").body("status", equalTo(503))
                    .body("detail", containsString("already waiting"));
            // a caller who can read no order at all (no role, no user id) is answered before it would wait
            given().header("Authorization", Tokens.bearer(Tokens.service("nobody")))
                    .header(ConsistencyToken.HEADER, token).get("/orders/anything").then().statusCode(404)
                    .contentType(Problem.MEDIA_TYPE);

            // meanwhile the orders channel applies what is produced, and reads (through the pool) answer
            List<String> produced = produceOrders(50);
            for (String orderId : produced) {
                await().atMost(GENEROUS).untilAsserted(() -> given().get("/orders/" + orderId).then()
                        .statusCode(200).body("order_id", equalTo(orderId)).body("user_id", notNullValue()));
            }
            assertEquals(CappedConsistencyWaits.MAX_WAITS, gate.waitsInProgress(),
                    "the waits were still waiting while those orders were applied");
            assertTrue(waits.stream().noneMatch(Future::isDone), () -> "no wait answered before its write was applied; "
                    + "answered: " + waits.stream().filter(Future::isDone).map(ConsistencyWaitsAreBoundedTest::outcome)
                            .toList());
        }
        clients.shutdown();
        for (Future<Integer> wait : waits) {
            assertEquals(200, wait.get(GENEROUS.toSeconds(), TimeUnit.SECONDS));
        }
        await().atMost(GENEROUS).until(() -> gate.waitsInProgress() == 0);
        assertEquals(0, gate.callersHoldingPlaces(), "every caller's places were given back");
    }

    private static String outcome(Future<Integer> answered) {
        try {
            return String.valueOf(answered.get());
        } catch (Exception e) {
            return String.valueOf(e.getCause() == null ? e : e.getCause()).lines().findFirst().orElse("");
        }
    }

    private List<String> produceOrders(int count) throws Exception {
        List<String> ids = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers, ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < count; i++) {
                String id = "bounded-wait-" + i;
                producer.send(new ProducerRecord<>("orders", id, """
                        {"order_id":"%s","user_id":%d,"category":"games","total":1.25,"timestamp":%d}"""
                        .formatted(id, 740_100 + i, Instant.now().getEpochSecond()))).get();
                ids.add(id);
            }
        }
        return ids;
    }
}
