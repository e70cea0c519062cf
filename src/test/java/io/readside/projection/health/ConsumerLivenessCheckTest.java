package io.readside.projection.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

/** Each consumer of a channel has a line of its own in the liveness data, so one's reason never hides another's. */
class ConsumerLivenessCheckTest {

    @Test
    void twoConsumersOfOneChannelReportUnderTwoKeysNamedByTheirClientIds() {
        String first = ConsumerLivenessCheck.dataKey("orders", 2, 0, "kafka-consumer-orders-0");
        String second = ConsumerLivenessCheck.dataKey("orders", 2, 1, "kafka-consumer-orders-1");
        assertNotEquals(first, second);
        assertEquals("orders kafka-consumer-orders-1", second);
        assertNotEquals(ConsumerLivenessCheck.dataKey("orders", 2, 0, null),
                ConsumerLivenessCheck.dataKey("orders", 2, 1, null), "no client id: told apart by their place");
        assertEquals("orders", ConsumerLivenessCheck.dataKey("orders", 1, 0, "kafka-consumer-orders"),
                "one consumer keeps the channel's name, as dashboards and docs show it");
    }
}
