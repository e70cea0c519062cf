package io.readside.projection.query;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.consistency.ConsistencyToken;
import io.readside.testing.ReadLoad;
import io.readside.testing.TwoStandbysBehindOneAddress;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.vertx.mutiny.sqlclient.Pool;

/**
 * Two real standbys behind one address, as CloudNativePG's {@code -ro} Service or a managed reader endpoint gives
 * them: the replica's checks see whichever standby their connection reached, so each read without a token checks its
 * own connection's standby. From a hostile review: one standby paused while the other was measured answered reads a
 * minute stale; a lost node (blackholed connections) held the pool for good.
 */
@QuarkusTest
@TestProfile(TwoStandbysBehindOneAddress.Profile.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicasBehindOneAddressTest {

    private static final Duration GENEROUS = Duration.ofSeconds(60);

    @Inject
    ReadReplicas replicas;
    @Inject
    Pool primary;
    @Inject
    MeterRegistry registry;

    @Test
    @Order(1)
    void aStandbyBehindTheAddressNeverAnswersAReadStalerThanTheBound() throws Exception {
        awaitInRotation(true);
        TwoStandbysBehindOneAddress.onB("SELECT pg_wal_replay_pause()");
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            Response placed = given().contentType(ContentType.JSON)
                    .body("{\"user_id\":820001,\"category\":\"books\",\"total\":\"2.00\"}").post("/orders");
            placed.then().statusCode(202);
            String orderId = placed.jsonPath().getString("order_id");
            given().header(ConsistencyToken.HEADER, placed.header(ConsistencyToken.HEADER)).get("/orders/" + orderId)
                    .then().statusCode(200);
            long written = primary.query("SELECT pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint")
                    .execute().await().atMost(GENEROUS).iterator().next().getLong(0);
            // from here every read without a token must see the order: the bound (2 s) has passed since it was durable
            await().atMost(GENEROUS).until(() -> replicas.floor() >= written);
            double behind = reads(QueryPool.Why.REPLICA_BEHIND);
            AtomicInteger stale = new AtomicInteger();
            List<CompletableFuture<Void>> load = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                load.add(CompletableFuture.runAsync(() -> {
                    for (int n = 0; n < 50; n++) {
                        if (given().queryParam("userId", 820001).get("/orders").then().statusCode(200).extract()
                                .jsonPath().getList("orders").isEmpty()) {
                            stale.incrementAndGet();
                        }
                    }
                }, clients));
            }
            CompletableFuture.allOf(load.toArray(CompletableFuture[]::new)).get(GENEROUS.toSeconds(), TimeUnit.SECONDS);
            assertEquals(0, stale.get(), "reads without a token answered without an order durable for longer than "
                    + "readside.query.max-replica-lag, from the paused standby behind the address");
            assertTrue(reads(QueryPool.Why.REPLICA_BEHIND) > behind, "the paused standby's connections were asked, "
                    + "found behind, and the primary answered instead");
        } finally {
            TwoStandbysBehindOneAddress.onB("SELECT pg_wal_replay_resume()");
            clients.shutdownNow();
        }
    }

    @Test
    @Order(2)
    void aReplicaOnALostNodeComesBackWhenTheAddressWorksAgain() throws Exception {
        awaitInRotation(true);
        Response placed = given().contentType(ContentType.JSON)
                .body("{\"user_id\":820002,\"category\":\"books\",\"total\":\"2.00\"}").post("/orders");
        placed.then().statusCode(202);
        String orderId = placed.jsonPath().getString("order_id");
        given().header(ConsistencyToken.HEADER, placed.header(ConsistencyToken.HEADER)).get("/orders/" + orderId)
                .then().statusCode(200);
        List<String> failed;
        try (ReadLoad load = ReadLoad.start(8, "/orders/" + orderId)) {
            await().atMost(GENEROUS).until(() -> load.answered() >= 300);
            TwoStandbysBehindOneAddress.proxy().blackhole(); // no FIN, no RST: the node is gone
            awaitInRotation(false);
            int at = load.answered();
            await().atMost(GENEROUS).until(() -> load.answered() >= at + 100);
            load.close();
            failed = load.failed();
        }
        assertTrue(failed.isEmpty(), failed.size() + " reads failed, e.g. " + failed.stream().findFirst().orElse(""));
        TwoStandbysBehindOneAddress.proxy().recover(); // a new standby behind the address: new connections work
        awaitInRotation(true); // its pools, held by blackholed connections, were replaced: it connects again
    }

    private double reads(QueryPool.Why why) {
        return registry.find("readside.query.reads").tag("source", "primary").tag("detail", why.tag()).counters()
                .stream().mapToDouble(Counter::count).sum();
    }

    private void awaitInRotation(boolean in) {
        try {
            await("in the rotation: " + in).atMost(GENEROUS).until(() -> replicas.all().get(0).inRotation() == in);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("out of the rotation: " + replicas.all().get(0).outOfRotation(), e);
        }
    }
}
