package io.readside.orders;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import jakarta.inject.Inject;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.Projector;
import io.readside.testing.OwnTopicsInfrastructure;
import io.readside.testing.TestProducer;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The orders channel on two consumers in one instance ({@code mp.messaging.incoming.orders.concurrency=2}: SmallRye
 * copies the channel, each copy a consumer of the group with its partitions and its own Vert.x context): every test of
 * {@link OrdersAndRevenueEndToEndTest} passes unchanged on it (the read models equal the fold to the cent, nothing is
 * published twice), the partitions are shared between the two, each applies on an event loop of its own, and a
 * transaction of one that waits does not hold the other.
 */
@QuarkusTest
@TestProfile(OrdersOnTwoConsumersTest.TwoConsumers.class)
class OrdersOnTwoConsumersTest extends OrdersAndRevenueEndToEndTest {

    /** A broker and database of its own, the orders channel on two consumers. */
    public static class TwoConsumers extends OwnTopicsInfrastructure {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> config = new HashMap<>(super.getConfigOverrides());
            config.put("mp.messaging.incoming." + OrdersProjector.CHANNEL + ".concurrency", "2");
            return config;
        }
    }

    @Inject
    KafkaClientService clients;
    @Inject
    Projector engine;

    @Test
    void eachPartitionIsAppliedByExactlyOneOfTheTwoConsumers() {
        List<String> copies = clients.getConsumerChannels().stream()
                .filter(channel -> channel.startsWith(OrdersProjector.CHANNEL + "$")).sorted().toList();
        assertEquals(List.of("orders$1", "orders$2"), copies, "SmallRye's copies of the channel");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            Set<Integer> all = new TreeSet<>();
            for (String copy : copies) {
                Set<TopicPartition> owned = clients.getConsumer(copy).getAssignments().await()
                        .atMost(Duration.ofSeconds(10));
                assertFalse(owned.isEmpty(), copy + " owns no partition");
                for (TopicPartition partition : owned) {
                    assertEquals(true, all.add(partition.partition()), partition + " owned twice");
                }
            }
            assertEquals(Set.of(0, 1, 2), all, "every partition of orders is owned");
        });
    }

    @Test
    void aTransactionWaitingOnALockHoldsItsOwnConsumerOnlyNotTheOther() throws Exception {
        int held = await().atMost(Duration.ofSeconds(60)).until(() -> firstPartitionOf("orders$1"), p -> p >= 0);
        int free = await().atMost(Duration.ofSeconds(60)).until(() -> firstPartitionOf("orders$2"), p -> p >= 0);
        // the lock every applying transaction takes for the order id, held by the test
        SqlConnection holder = pool.getConnection().await().atMost(Duration.ofSeconds(60));
        holder.query("BEGIN").execute().await().atMost(Duration.ofSeconds(60));
        holder.preparedQuery("SELECT pg_advisory_xact_lock($2, hashtext($1))")
                .execute(Tuple.of("two-held", OrdersProjector.ORDER_LOCKS)).await().atMost(Duration.ofSeconds(60));
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", held, "two-held", order("two-held"));
            producer.send("orders", free, "two-free", order("two-free"));
        }

        // with one consumer the held poll would stop the channel: here the other consumer applies its own
        await().atMost(Duration.ofSeconds(60)).until(() -> applied("two-free"));
        assertFalse(applied("two-held"), "the order whose lock the test holds waits");
        holder.query("COMMIT").execute().await().atMost(Duration.ofSeconds(60));
        holder.close().await().atMost(Duration.ofSeconds(60));
        await().atMost(Duration.ofSeconds(60)).until(() -> applied("two-held"));
    }

    @Test
    void theTwoConsumersApplyTheirPollsOnTwoEventLoops() throws Exception {
        int first = await().atMost(Duration.ofSeconds(60)).until(() -> firstPartitionOf("orders$1"), p -> p >= 0);
        int second = await().atMost(Duration.ofSeconds(60)).until(() -> firstPartitionOf("orders$2"), p -> p >= 0);
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", first, "loops-1", order("loops-1"));
            producer.send("orders", second, "loops-2", order("loops-2"));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> applied("loops-1") && applied("loops-2"));

        assertEquals(2, engine.consumerLoops(), "event loops the two consumers applied their polls on");
    }

    private int firstPartitionOf(String copy) {
        return clients.getConsumer(copy).getAssignments().await().atMost(Duration.ofSeconds(10)).stream()
                .mapToInt(TopicPartition::partition).min().orElse(-1);
    }

    private boolean applied(String orderId) {
        return pool.preparedQuery("SELECT count(*) FROM orders WHERE order_id = $1").execute(Tuple.of(orderId))
                .await().atMost(Duration.ofSeconds(60)).iterator().next().getLong(0) == 1;
    }

    /**
     * A user of its own, and a time days before the seeded orders: past every partition's grace, so late (applied to
     * the orders, not to any window) and the fold's windows, which the redelivery test compares last, stay as they are.
     */
    private static String order(String id) {
        return "{\"order_id\":\"" + id + "\",\"user_id\":7301,\"category\":\"books\",\"total\":1.00,"
                + "\"timestamp\":1764000000}";
    }
}
