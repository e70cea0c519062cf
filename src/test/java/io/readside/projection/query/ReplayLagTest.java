package io.readside.projection.query;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The replay lag from the primary's sampled WAL positions: pure logic, seconds as nanoseconds in. */
class ReplayLagTest {

    private static final long S = 1_000_000_000L;

    @Test
    void aReplicaThatReplayedTheNewestSampleIsNotBehindHoweverIdleThePrimary() {
        ReplayLag lag = new ReplayLag();
        lag.sample(0, 1_000);
        lag.sample(3_600 * S, 1_000); // an hour without WAL
        assertEquals(0, lag.secondsBehind(3_600 * S, 1_000, 3_600.0));
    }

    @Test
    void aReplicaIsBehindByTheAgeOfTheOldestSampleItHasNotReplayed() {
        ReplayLag lag = new ReplayLag();
        lag.sample(0, 1_000);
        lag.sample(10 * S, 2_000);
        lag.sample(20 * S, 3_000);
        assertEquals(15, lag.secondsBehind(25 * S, 1_500, 0.5));
        assertEquals(5, lag.secondsBehind(25 * S, 2_000, 0.5));
        assertEquals(0, lag.secondsBehind(25 * S, 3_000, 0.5));
    }

    @Test
    void aPausedReplicaFallsFurtherBehindWhileThePrimaryWrites() {
        ReplayLag lag = new ReplayLag();
        lag.sample(0, 1_000);
        lag.sample(1 * S, 1_100);
        assertEquals(1, lag.secondsBehind(2 * S, 1_000, null));
        lag.sample(2 * S, 1_200);
        assertEquals(2, lag.secondsBehind(3 * S, 1_000, null), "counted from the first WAL it lacks, not the last");
    }

    @Test
    void aReplicaBehindEverySampleIsAtLeastAsOldAsItsLastReplayedCommitOrUnknown() {
        ReplayLag lag = new ReplayLag();
        lag.sample(100 * S, 5_000);
        lag.sample(101 * S, 6_000);
        lag.forgetReplayed(5_500); // the other replicas replayed the first sample
        assertEquals(600, lag.secondsBehind(105 * S, 4_000, 600.0), "back after an absence: its last commit's age");
        assertEquals(4, lag.secondsBehind(105 * S, 4_000, 1.0), "at least the oldest sample's age");
        assertEquals(Double.POSITIVE_INFINITY, lag.secondsBehind(105 * S, 4_000, null), "no commit replayed: unknown");
    }

    @Test
    void samplesEveryReplicaReplayedAreForgottenButTheNewestIsKept() {
        ReplayLag lag = new ReplayLag();
        lag.sample(0, 1_000);
        lag.sample(1 * S, 2_000);
        lag.forgetReplayed(5_000);
        assertEquals(0, lag.secondsBehind(9 * S, 2_000, null));
        assertEquals(8, lag.secondsBehind(9 * S, 1_999, 8.0), "behind the newest sample kept: its age");
    }

    @Test
    void theFloorIsThePrimarysPositionTheBoundAgoOrStricter() {
        ReplayLag lag = new ReplayLag();
        assertEquals(-1, lag.floor(0, 5 * S), "no sample: nothing to require");
        lag.sample(0, 1_000);
        lag.sample(3 * S, 2_000);
        lag.sample(6 * S, 3_000);
        assertEquals(1_000, lag.floor(7 * S, 5 * S), "the newest sample at least 5 s old");
        assertEquals(2_000, lag.floor(8 * S, 5 * S));
        assertEquals(1_000, lag.floor(2 * S, 5 * S), "none that old: the oldest, stricter than the bound");
        lag.forgetReplayed(2_500);
        assertEquals(3_000, lag.floor(8 * S, 5 * S), "forgotten samples make it stricter, never looser");
    }
}
