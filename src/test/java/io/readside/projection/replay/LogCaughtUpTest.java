package io.readside.projection.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import io.readside.projection.lag.LagSnapshot;
import io.readside.projection.lag.PartitionLag;

/**
 * When a lag measurement may vouch for a partition a redrive waits on (pure logic): only one taken after the request,
 * of the same group, at lag 0, and up to at least the end the request read. A measurement is stamped after it read
 * the log ends, so one stamped after the request may still have read an older end: a record written in between (an
 * erasure) is not vouched for.
 */
class LogCaughtUpTest {

    private static final TopicPartition USERS_2 = new TopicPartition("user-events", 2);
    private static final Instant ASKED = Instant.parse("2026-12-06T03:00:00Z");

    private static LagSnapshot measured(Instant at, String group, long end, long lag) {
        return new LagSnapshot(at, List.of(new PartitionLag("user-events", group, "user-events", 2, end, end - lag,
                lag, 0, 0, null)), null, null);
    }

    @Test
    void aMeasurementAfterTheRequestThatReadAnOlderEndDoesNotVouchForTheRecordsSince() {
        assertFalse(LogCaughtUp.caughtUpSince(measured(ASKED.plusMillis(1), "readside", 10, 0), ASKED, "readside",
                USERS_2, 11));
    }

    @Test
    void aMeasurementAfterTheRequestAtLagZeroUpToItsEndVouches() {
        assertTrue(LogCaughtUp.caughtUpSince(measured(ASKED.plusMillis(1), "readside", 11, 0), ASKED, "readside",
                USERS_2, 11));
    }

    @Test
    void anEarlierMeasurementAnotherGroupsOrALaggingOneDoNot() {
        assertFalse(LogCaughtUp.caughtUpSince(measured(ASKED.minusMillis(1), "readside", 11, 0), ASKED, "readside",
                USERS_2, 11));
        assertFalse(LogCaughtUp.caughtUpSince(measured(ASKED.plusMillis(1), "readside-payments", 11, 0), ASKED,
                "readside", USERS_2, 11));
        assertFalse(LogCaughtUp.caughtUpSince(measured(ASKED.plusMillis(1), "readside", 11, 1), ASKED, "readside",
                USERS_2, 11));
    }

    @Test
    void aRedriveWaitsAtLeastTwoLagMeasurementsWhateverIsConfiguredAndAWaitOutOfBoundsStopsTheStart() {
        assertEquals(Duration.ofSeconds(15), LogCaughtUp.within(Duration.ofSeconds(15), Duration.ofSeconds(5)));
        assertEquals(Duration.ofSeconds(10), LogCaughtUp.within(Duration.ofSeconds(1), Duration.ofSeconds(5)),
                "a partition ending in a transaction marker needs a measurement taken after the request");
        assertEquals(Duration.ofMinutes(10), LogCaughtUp.within(Duration.ofSeconds(15), Duration.ofDays(1000)),
                "a lag interval of days does not make a redrive hold its thread for days");
        assertEquals(Duration.ofMinutes(10), LogCaughtUp.within(Duration.ofSeconds(15),
                Duration.ofSeconds(Long.MAX_VALUE / 2)), "nor overflow");
        assertThrows(IllegalArgumentException.class,
                () -> LogCaughtUp.within(Duration.ofMillis(99), Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class,
                () -> LogCaughtUp.within(Duration.ofMinutes(10).plusMillis(1), Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class,
                () -> LogCaughtUp.within(Duration.ofSeconds(-15), Duration.ofSeconds(1)));
    }
}
