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
import io.readside.testing.OwnTopicsInfrastructure;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;

/**
 * The orders channel on two consumers in one instance ({@code mp.messaging.incoming.orders.concurrency=2}: SmallRye
 * copies the channel, each copy a consumer of the group with its partitions and its own event loop): every test of
 * {@link OrdersAndRevenueEndToEndTest} passes unchanged on it (the read models equal the fold to the cent, nothing is
 * published twice), and the partitions are shared between the two.
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
}
