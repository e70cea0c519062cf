package io.readside.projection.replay;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.readside.projection.replay.Rebuilds.RebuildStatus;
import io.readside.projection.replay.Rebuilds.State;

/**
 * One rebuild of a read model and its progress, written by the rebuild's thread and read by the status endpoint and
 * the gauges. Offsets per partition are the next record to apply: {@code live} the live read model's positions (the
 * replay's target), {@code rebuilt} the shadow's consumer positions.
 */
final class Run {
    final Replayable<?> model;
    final Instant startedAt = Instant.now();
    final AtomicLong replayed = new AtomicLong();
    final AtomicLong invalid = new AtomicLong();
    volatile State state = State.PREPARING;
    volatile long remaining;
    volatile Map<Integer, Long> live = Map.of();
    final Map<Integer, Long> rebuilt = new ConcurrentHashMap<>();
    volatile Long switchMillis;
    volatile Instant finishedAt;
    volatile String error;

    final long rowsBeforeLogStart;
    final Map<Integer, Long> logStarts;

    Run(Replayable<?> model, long rowsBeforeLogStart, Map<Integer, Long> logStarts) {
        this.model = model;
        this.rowsBeforeLogStart = rowsBeforeLogStart;
        this.logStarts = new TreeMap<>(logStarts);
    }

    boolean running() {
        return state != State.DONE && state != State.FAILED;
    }

    /** Ends the run: {@code end} is DONE or FAILED, {@code failure} null or why it failed. */
    void finish(State end, String failure) {
        error = failure;
        finishedAt = Instant.now();
        state = end;
    }

    /** A snapshot, as {@code GET /admin/rebuilds/{readModel}} answers it. */
    RebuildStatus status() {
        return new RebuildStatus(model.readModel(), model.topic(), state, startedAt, finishedAt, replayed.get(),
                invalid.get(), remaining, new TreeMap<>(live), new TreeMap<>(rebuilt), switchMillis, error,
                rowsBeforeLogStart, logStarts);
    }
}
