package io.readside.projection.replay;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.readside.projection.replay.Rebuilds.RebuildStatus;
import io.readside.projection.replay.Rebuilds.State;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The latest rebuild of each read model, kept in PostgreSQL (table {@code rebuild_status}) so that every instance
 * answers for it, also after a restart. The runner writes; anyone reads. A run still in a running state whose
 * runner's session no longer holds the rebuild lock was abandoned (its instance stopped): it reads as FAILED, with
 * {@code abandoned} and a reason. Blocks (each call at most {@link #CALL_TIMEOUT}).
 */
@ApplicationScoped
class RebuildStatuses {

    static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

    /** A new run replaces its read model's previous one: the lock holder is the only writer of a new run. */
    static final String START = """
            INSERT INTO rebuild_status (read_model, run_id, topic, state, instance, runner_pid, started_at,
                   finished_at, updated_at, replayed_records, invalid_records, remaining_records, live_offsets,
                   rebuilt_offsets, switch_millis, error, rows_before_log_start, log_start_offsets)
            VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, now(), 0, 0, 0, '{}', '{}', NULL, NULL, $8, $9)
            ON CONFLICT (read_model) DO UPDATE SET run_id = EXCLUDED.run_id, topic = EXCLUDED.topic,
                   state = EXCLUDED.state, instance = EXCLUDED.instance, runner_pid = EXCLUDED.runner_pid,
                   started_at = EXCLUDED.started_at, finished_at = NULL, updated_at = now(), replayed_records = 0,
                   invalid_records = 0, remaining_records = 0, live_offsets = '{}', rebuilt_offsets = '{}',
                   switch_millis = NULL, error = NULL, rows_before_log_start = EXCLUDED.rows_before_log_start,
                   log_start_offsets = EXCLUDED.log_start_offsets""";
    /** Only the run's own row: a late write of a run another has replaced since changes nothing. */
    static final String PROGRESS = """
            UPDATE rebuild_status SET state = $3, finished_at = $4, updated_at = now(), replayed_records = $5,
                   invalid_records = $6, remaining_records = $7, live_offsets = $8, rebuilt_offsets = $9,
                   switch_millis = $10, error = $11
             WHERE read_model = $1 AND run_id = $2""";
    /**
     * The row, and whether its runner's session still holds the rebuild lock ($2; a bigint key shows as its high half
     * in {@code classid}, its low half in {@code objid}, {@code objsubid} 1).
     */
    static final String LATEST = """
            SELECT s.*, EXISTS (SELECT 1 FROM pg_locks l
                     WHERE l.locktype = 'advisory' AND l.granted AND l.pid = s.runner_pid AND l.objsubid = 1
                       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                       AND l.classid::bigint = ($2::bigint >> 32) AND l.objid::bigint = ($2::bigint & 4294967295)
                   ) AS runner_holds_lock
              FROM rebuild_status s WHERE s.read_model = $1""";

    @Inject
    Pool pool;

    /** Records a new run of its read model; {@code runnerPid} is the session that holds the rebuild lock for it. */
    void started(Run run, int runnerPid) {
        pool.preparedQuery(START).execute(Tuple.from(new Object[] { run.model.readModel(), run.id, run.model.topic(),
                run.state.name(), run.instance, runnerPid, at(run.startedAt), run.rowsBeforeLogStart,
                json(run.logStarts) })).await().atMost(CALL_TIMEOUT);
    }

    /** Writes the run's progress (or its end) over its own row. */
    void progressed(Run run) {
        RebuildStatus status = run.status();
        pool.preparedQuery(PROGRESS).execute(Tuple.from(new Object[] { status.readModel(), run.id,
                status.state().name(), at(status.finishedAt()), status.replayedRecords(), status.invalidRecords(),
                status.remainingRecords(), json(status.liveOffsets()), json(status.rebuiltOffsets()),
                status.switchMillis(), status.error() })).await().atMost(CALL_TIMEOUT);
    }

    /** The latest run of the read model on any instance; empty when none is recorded. */
    Optional<RebuildStatus> latest(String readModel) {
        RowSet<Row> rows = pool.preparedQuery(LATEST).execute(Tuple.of(readModel, Rebuilds.LOCK_KEY)).await()
                .atMost(CALL_TIMEOUT);
        if (rows.size() == 0) {
            return Optional.empty();
        }
        Row row = rows.iterator().next();
        State state = State.valueOf(row.getString("state"));
        Instant updatedAt = instant(row, "updated_at");
        boolean abandoned = state.running() && !row.getBoolean("runner_holds_lock");
        String error = abandoned ? "abandoned in state " + state + ": the instance running it (" + row.getString(
                "instance") + ") stopped or lost its database session (the rebuild lock is no longer held); its "
                + "last progress was written at " + updatedAt + ". The live read model was only replaced if the "
                + "switch had committed; start the rebuild again" : row.getString("error");
        return Optional.of(new RebuildStatus(readModel, row.getString("topic"), abandoned ? State.FAILED : state,
                instant(row, "started_at"), instant(row, "finished_at"), row.getLong("replayed_records"),
                row.getLong("invalid_records"), row.getLong("remaining_records"), offsets(row, "live_offsets"),
                offsets(row, "rebuilt_offsets"), row.getLong("switch_millis"), error,
                row.getLong("rows_before_log_start"), offsets(row, "log_start_offsets"), row.getString("instance"),
                updatedAt, abandoned));
    }

    private static JsonObject json(Map<Integer, Long> offsets) {
        JsonObject json = new JsonObject();
        new TreeMap<>(offsets).forEach((partition, offset) -> json.put(partition.toString(), offset));
        return json;
    }

    private static Map<Integer, Long> offsets(Row row, String column) {
        Map<Integer, Long> offsets = new TreeMap<>();
        Object value = row.getValue(column);
        if (value instanceof JsonObject json) {
            json.forEach(entry -> offsets.put(Integer.valueOf(entry.getKey()), ((Number) entry.getValue())
                    .longValue()));
        }
        return offsets;
    }

    private static OffsetDateTime at(Instant instant) {
        return instant == null ? null : instant.atOffset(java.time.ZoneOffset.UTC);
    }

    private static Instant instant(Row row, String column) {
        OffsetDateTime at = row.getOffsetDateTime(column);
        return at == null ? null : at.toInstant();
    }
}
