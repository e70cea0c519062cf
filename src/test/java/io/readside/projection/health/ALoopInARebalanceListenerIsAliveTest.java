package io.readside.projection.health;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.orders.OrdersProjector;
import io.readside.projection.PositionSeeker;
import io.readside.testing.Management;
import io.readside.testing.RealInfrastructure;
import io.readside.testing.TestProducer;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * A rebalance during a database outage holds the orders consumer's polling thread in the revocation listener for
 * its 10 s wait on the poll in flight (here the poll cannot commit: the test holds its position rows). Liveness
 * answers at once and UP meanwhile: a probe must not wait out the listener, and Kubernetes must not restart a pod
 * for it (FaultInjectionIT scenario 5 met this in CI).
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class ALoopInARebalanceListenerIsAliveTest {

    private static final Duration GENEROUS = Duration.ofMinutes(2);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    KafkaClientService clients;
    @Inject
    @Identifier(PositionSeeker.NAME)
    PositionSeeker seeker;
    @Inject
    Pool pool;

    @Test
    void aLoopWaitingInTheRevocationListenerIsReportedAliveWithoutBeingWaitedFor() {
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", 0, "alive-1", order("alive-1"));
        }
        await().atMost(GENEROUS).untilAsserted(() -> given().get("/orders/alive-1").then().statusCode(200));
        KafkaConsumer<Object, Object> orders = clients.<Object, Object> getConsumers(OrdersProjector.CHANNEL).get(0);
        SqlConnection holder = pool.getConnection().await().atMost(GENEROUS);
        CompletableFuture<Object> listener;
        try {
            holder.query("BEGIN").execute().await().atMost(GENEROUS);
            holder.query("SELECT 1 FROM projection_positions WHERE topic = 'orders' FOR UPDATE").execute().await()
                    .atMost(GENEROUS);
            try (TestProducer producer = new TestProducer(bootstrapServers)) {
                producer.send("orders", 0, "alive-2", order("alive-2")); // in flight, and cannot commit
            }
            await().atMost(GENEROUS).until(() -> waitingForThePositions() >= 1);
            listener = orders.runOnPollingThread(consumer -> {
                seeker.onPartitionsRevoked(consumer, List.copyOf(consumer.assignment()));
                return (Object) "revoked";
            }).subscribeAsCompletionStage();
            await().atMost(GENEROUS).until(() -> seeker.inListenerFor(orders.unwrap()).isPresent());

            Management.given().get("/q/health/live").then().statusCode(200)
                    .body("checks.find { it.name == 'readside-consumer-loops' }.status", equalTo("UP"))
                    .body("checks.find { it.name == 'readside-consumer-loops' }.data.orders",
                            containsString("in a rebalance listener"));
        } finally {
            holder.query("ROLLBACK").execute().await().atMost(GENEROUS);
            holder.close().await().atMost(GENEROUS);
        }
        await().atMost(GENEROUS).until(listener::isDone);
        await().atMost(GENEROUS).untilAsserted(() -> given().get("/orders/alive-2").then().statusCode(200));
    }

    /** Transactions waiting for a lock on the position rows (the projector's, behind the test's). */
    private long waitingForThePositions() {
        return pool.query("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                + " AND query LIKE '%projection_positions%'").execute().await().atMost(GENEROUS).iterator().next()
                .getLong(0);
    }

    private static String order(String id) {
        return "{\"order_id\":\"" + id + "\",\"user_id\":6401,\"category\":\"books\",\"total\":1,"
                + "\"timestamp\":1764230000}";
    }
}
