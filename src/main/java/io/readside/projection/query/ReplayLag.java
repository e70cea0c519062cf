package io.readside.projection.query;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A replica's replay lag in seconds, from the primary's WAL position sampled at each check: the age of the oldest
 * sample the replica has not replayed, 0 when it has replayed the newest. Unlike {@code now() -
 * pg_last_xact_replay_timestamp()} alone, it stays 0 on an idle primary and grows on a replica that lost its primary
 * or paused its replay. Its resolution is the interval between samples. A replica behind even the oldest sample
 * (away while the others replayed it, or behind since before the first check) is at least that old and at least as
 * old as the last commit it replayed. Not thread-safe: one checker owns it.
 */
final class ReplayLag {

    /** Samples kept at most: the oldest go first. */
    static final int MAX_SAMPLES = 4096;

    private record Sample(long atNanos, long lsn) {
    }

    private final Deque<Sample> samples = new ArrayDeque<>();

    /** The primary's WAL position ({@code pg_current_wal_flush_lsn()} as bytes from 0/0), read at {@code atNanos}. */
    void sample(long atNanos, long primaryLsn) {
        Sample last = samples.peekLast();
        if (last != null && last.lsn() >= primaryLsn) {
            return; // no new WAL since: the older sample is the one a lagging replica is measured from
        }
        samples.addLast(new Sample(atNanos, primaryLsn));
        if (samples.size() > MAX_SAMPLES) {
            samples.removeFirst();
        }
    }

    /**
     * Seconds since the primary first held WAL that a replica replayed up to {@code replayLsn} does not have.
     *
     * @param sinceReplayedCommit seconds since the last commit the replica replayed was made on the primary (null:
     *            none replayed since it started), used only for a replica behind every sample
     */
    double secondsBehind(long nowNanos, long replayLsn, Double sinceReplayedCommit) {
        Sample oldest = samples.peekFirst();
        if (oldest == null) {
            return 0;
        }
        if (replayLsn < oldest.lsn()) {
            double atLeast = age(nowNanos, oldest);
            return sinceReplayedCommit == null ? Double.POSITIVE_INFINITY : Math.max(atLeast, sinceReplayedCommit);
        }
        for (Sample sample : samples) {
            if (sample.lsn() > replayLsn) {
                return age(nowNanos, sample);
            }
        }
        return 0;
    }

    /**
     * The WAL position a replica must have replayed to be at most {@code maxLagNanos} behind: the newest sample taken
     * that long ago or earlier, else the oldest sample (stricter: the samples are younger than the bound); -1 with no
     * sample. Forgetting samples only makes it stricter.
     */
    long floor(long nowNanos, long maxLagNanos) {
        long floor = -1;
        for (Sample sample : samples) {
            if (floor < 0 || nowNanos - sample.atNanos() >= maxLagNanos) {
                floor = sample.lsn();
            } else {
                break;
            }
        }
        return floor;
    }

    /** Forgets the samples that every replica has replayed, keeping the newest. */
    void forgetReplayed(long slowestReplayLsn) {
        while (samples.size() > 1 && samples.peekFirst().lsn() <= slowestReplayLsn) {
            samples.removeFirst();
        }
    }

    private static double age(long nowNanos, Sample sample) {
        return Math.max(0, nowNanos - sample.atNanos()) / 1e9;
    }
}
