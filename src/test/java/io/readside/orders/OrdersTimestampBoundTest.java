package io.readside.orders;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

/**
 * How a topic's configuration is judged, for the brokers the wellness check meets besides the test's Kafka 4:
 * 3.6 to 3.9 (the after-bound defaults to no bound), before 3.6 (one bound both ways), and a skew set wider.
 */
class OrdersTimestampBoundTest {

    private static OrdersTimestampBound withSkew(Duration skew) {
        OrdersTimestampBound bound = new OrdersTimestampBound();
        bound.maxClockSkew = skew;
        return bound;
    }

    private static Config config(String... namesAndValues) {
        List<ConfigEntry> entries = new java.util.ArrayList<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            entries.add(new ConfigEntry(namesAndValues[i], namesAndValues[i + 1]));
        }
        return new Config(entries);
    }

    @Test
    void kafka3DefaultsOfNoBoundAreUnbounded() {
        OrdersTimestampBound.Judged judged = withSkew(Duration.ofMinutes(1)).judge(config(
                "message.timestamp.type", "CreateTime",
                "message.timestamp.after.max.ms", String.valueOf(Long.MAX_VALUE),
                "message.timestamp.difference.max.ms", String.valueOf(Long.MAX_VALUE)));
        assertFalse(judged.bounded());
        assertTrue(judged.why().contains("any time"), judged.why());
    }

    @Test
    void beforeKafka36TheDifferenceBoundCounts() {
        OrdersTimestampBound bound = withSkew(Duration.ofMinutes(1));
        assertTrue(bound.judge(config("message.timestamp.difference.max.ms", "30000")).bounded());
        OrdersTimestampBound.Judged loose = bound.judge(config("message.timestamp.difference.max.ms", "120000"));
        assertFalse(loose.bounded());
        assertTrue(loose.why().startsWith("message.timestamp.difference.max.ms=120000"), loose.why());
    }

    @Test
    void aWiderSkewAcceptsAWiderBoundAndNoConfigurationAtAllIsUnbounded() {
        assertTrue(withSkew(Duration.ofHours(1)).judge(config("message.timestamp.after.max.ms", "3600000"))
                .bounded());
        OrdersTimestampBound.Judged none = withSkew(Duration.ofHours(1)).judge(config());
        assertFalse(none.bounded());
        assertTrue(none.why().contains("unset"), none.why());
    }

    @Test
    void kafka36To39UseTheTwoWayBoundWhileTheAfterBoundIsLeftAtItsDefault() {
        OrdersTimestampBound bound = withSkew(Duration.ofMinutes(1));
        OrdersTimestampBound.Judged judged = bound.judge(config(
                "message.timestamp.after.max.ms", String.valueOf(Long.MAX_VALUE),
                "message.timestamp.difference.max.ms", "30000"));
        assertTrue(judged.bounded(), judged.why());
        assertTrue(judged.why().startsWith("message.timestamp.difference.max.ms=30000"), judged.why());
        assertFalse(bound.judge(config("message.timestamp.after.max.ms", "3600000",
                "message.timestamp.difference.max.ms", "30000")).bounded(), "a set after-bound is the one the broker uses");
    }

    @Test
    void aBoundThatIsNotANumberOfMillisecondsBoundsNothing() {
        OrdersTimestampBound bound = withSkew(Duration.ofMinutes(1));
        assertFalse(bound.judge(config("message.timestamp.after.max.ms", "-1")).bounded());
        assertFalse(bound.judge(config("message.timestamp.after.max.ms", "soon")).bounded());
    }

    @Test
    void aBrokerThatRefusesToSayIsReportedAndOneThatIsDownKeepsWhatWasKnown() {
        OrdersTimestampBound bound = withSkew(Duration.ofMinutes(1));
        bound.topic = "orders";
        OrdersTimestampBound.Judged known = bound.judge(config("message.timestamp.after.max.ms", "60000"));

        OrdersTimestampBound.Judged refused = bound.failed(
                new TopicAuthorizationException(java.util.Set.of("orders")), known);
        assertTrue(refused.known());
        assertFalse(refused.bounded(), "not confirmed is not bounded");
        assertTrue(refused.why().contains("allow DescribeConfigs"), refused.why());

        OrdersTimestampBound.Judged down = bound.failed(new java.util.concurrent.TimeoutException(), known);
        assertTrue(down.known() && down.bounded(), "a broker that is down changes nothing known");
        assertTrue(down.why().contains("last known: message.timestamp.after.max.ms=60000"), down.why());
    }

    @Test
    void aTopicThatExistedAndIsGoneIsReportedWhileOneNotCreatedYetIsNot() {
        OrdersTimestampBound bound = withSkew(Duration.ofMinutes(1));
        bound.topic = "orders";
        OrdersTimestampBound.Judged notAsked = new OrdersTimestampBound.Judged(false, true, "not asked yet");
        OrdersTimestampBound.Judged notYet = bound.failed(
                new org.apache.kafka.common.errors.UnknownTopicOrPartitionException("orders"), notAsked);
        assertTrue(notYet.bounded(), "a fresh deployment's topic not created yet: " + notYet.why());

        OrdersTimestampBound.Judged known = bound.judge(config("message.timestamp.after.max.ms", "60000"));
        OrdersTimestampBound.Judged once = bound.failed(
                new org.apache.kafka.common.errors.UnknownTopicOrPartitionException("orders"), known);
        assertTrue(once.known() && once.bounded(), "one answer may be a broker still loading its metadata: "
                + once.why());
        assertTrue(once.why().contains("asked again"), once.why());
        OrdersTimestampBound.Judged deleted = bound.failed(
                new org.apache.kafka.common.errors.UnknownTopicOrPartitionException("orders"), once);
        assertFalse(deleted.bounded(), "a deleted topic vouches for nothing: " + deleted.why());
        assertFalse(deleted.known(), "the gauge says unknown, not unbounded: the alert is for a loose bound");
        assertTrue(deleted.why().contains("was deleted"), deleted.why());

        OrdersTimestampBound.Judged stillGone = bound.failed(
                new org.apache.kafka.common.errors.UnknownTopicOrPartitionException("orders"), deleted);
        assertFalse(stillGone.bounded(), "still gone is still reported: " + stillGone.why());

        OrdersTimestampBound.Judged brokerDown = bound.failed(new java.util.concurrent.TimeoutException(), stillGone);
        assertFalse(brokerDown.bounded(), brokerDown.why());
        assertTrue(brokerDown.why().contains("was deleted"), "a broker down keeps the reason: " + brokerDown.why());
        assertTrue(bound.judge(config("message.timestamp.after.max.ms", "60000")).bounded(),
                "created again with a bound, it is judged as any other");
    }

    @Test
    void aLongBrokerOutageDoesNotGrowTheReasonCheckByCheck() {
        OrdersTimestampBound bound = withSkew(Duration.ofMinutes(1));
        bound.topic = "orders";
        OrdersTimestampBound.Judged judged = bound.judge(config("message.timestamp.after.max.ms", "60000"));
        int first = bound.failed(new java.util.concurrent.TimeoutException(), judged).why().length();
        for (int check = 0; check < 1_000; check++) { // 1,000 minutes without a broker
            judged = bound.failed(new java.util.concurrent.TimeoutException(), judged);
        }
        assertTrue(judged.why().length() <= first, "the reason keeps one last-known judgement: " + judged.why().length());
        assertTrue(judged.why().endsWith("last known: message.timestamp.after.max.ms=60000: an order's timestamp is at"
                + " most 60000 ms ahead of the broker's clock, its event time at most PT1M"
                + " (readside.orders.max-clock-skew) more"), judged.why());
    }
}
