package io.readside.projection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.eclipse.microprofile.config.Config;
import org.junit.jupiter.api.Test;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

/**
 * The projected channels read from the configuration, and operator settings of their consumers refused at start: a
 * count below one (SmallRye runs one anyway), a copy in another group or on another topic. Pure logic.
 */
class ProjectedChannelsTest {

    private static Config config(Map<String, String> more) {
        Map<String, String> properties = new HashMap<>(Map.of(
                "mp.messaging.incoming.orders.connector", "smallrye-kafka",
                "mp.messaging.incoming.orders.topic", "orders",
                "mp.messaging.incoming.orders.consumer-rebalance-listener.name", PositionSeeker.NAME));
        properties.putAll(more);
        return new SmallRyeConfigBuilder().withSources(new PropertiesConfigSource(properties, "test", 100)).build();
    }

    @Test
    void aChannelWithOneOrMoreConsumersIsProjected() {
        assertEquals(List.of(new ProjectedChannels.Consumed("orders", "readside", "orders")),
                ProjectedChannels.of(config(Map.of())));
        assertEquals(1, ProjectedChannels.of(config(Map.of("mp.messaging.incoming.orders.concurrency", "3"))).size());
    }

    @Test
    void aChannelWithNoConsumerIsRefusedWithTheKeyToFix() {
        for (String count : List.of("0", "-2")) {
            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> ProjectedChannels.of(config(Map.of("mp.messaging.incoming.orders.concurrency", count))));
            assertEquals("mp.messaging.incoming.orders.concurrency=" + count + ": a projected channel has at least one "
                    + "consumer (SmallRye runs one for " + count + "); set 1 or more", refused.getMessage());
        }
    }

    @Test
    void aConsumerInAnotherGroupOrOnAnotherTopicIsRefused() {
        for (String key : List.of("group.id", "topic")) {
            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> ProjectedChannels.of(config(Map.of("mp.messaging.incoming.orders.concurrency", "2",
                            "mp.messaging.incoming.orders$2." + key, "elsewhere"))));
            assertEquals("mp.messaging.incoming.orders$2." + key + " differs from mp.messaging.incoming.orders." + key
                    + ": every consumer of a projected channel has its group and topic", refused.getMessage());
        }
        assertEquals(1, ProjectedChannels.of(config(Map.of("mp.messaging.incoming.orders.concurrency", "2",
                "mp.messaging.incoming.orders$1.group.id", "readside"))).size(), "the same group, said again");
    }
}
