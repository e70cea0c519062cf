package io.readside.projection.replay;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import io.readside.projection.replay.Rebuilds.RebuildStatus;
import io.readside.projection.replay.Rebuilds.State;

/**
 * One rebuild of a read model and its progress, written by the rebuild's thread and read by the gauges and by the
 * writer of {@link RebuildStatuses} (at each {@link #enter state change}, and about once a second). Offsets per
 * partition are the next record to apply: {@code live} the live read model's positions (the replay's target),
 * {@code rebuilt} the shadow's consumer positions.
 */
final class Run {
    final UUID id = UUID.randomUUID();
    final Replayable<?> model;
    /** the instance that runs it, as the status names it */
    final String instance;
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
    private final Consumer<Run> stateChanged;

    /** {@code stateChanged} is told after each change of state (not of progress), on the thread that made it. */
    Run(Replayable<?> model, String instance, long rowsBeforeLogStart, Map<Integer, Long> logStarts,
            Consumer<Run> stateChanged) {
        this.model = model;
        this.instance = instance;
        this.rowsBeforeLogStart = rowsBeforeLogStart;
        this.logStarts = new TreeMap<>(logStarts);
        this.stateChanged = stateChanged;
    }

    boolean running() {
        return state.running();
    }

    /** Moves the run to a running state. */
    void enter(State next) {
        state = next;
        stateChanged.accept(this);
    }

    /** Ends the run: {@code end} is DONE or FAILED, {@code failure} null or why it failed. */
    void finish(State end, String failure) {
        error = failure;
        finishedAt = Instant.now();
        state = end;
        stateChanged.accept(this);
    }

    /** A snapshot, as {@code GET /admin/rebuilds/{readModel}} answers it. */
    RebuildStatus status() {
        return new RebuildStatus(model.readModel(), model.topic(), state, startedAt, finishedAt, replayed.get(),
                invalid.get(), remaining, new TreeMap<>(live), new TreeMap<>(rebuilt), switchMillis, error,
                rowsBeforeLogStart, logStarts, instance, Instant.now(), false);
    }
}
