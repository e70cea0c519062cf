package io.readside.orders;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import io.quarkus.scheduler.Scheduled;
import io.readside.projection.Batch;
import io.readside.projection.Committed;
import io.readside.projection.InTurn;
import io.readside.projection.outbox.Outbox;
import io.smallrye.health.api.Wellness;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgException;

/**
 * Stopped read models ({@link ReadModelStops}) catch up from their own backlog and join the others: at start and every
 * {@code readside.read-models.catch-up-every}, each stopped model is handed what it missed, in backlog order, a chunk
 * per transaction (its rows, what it publishes, and the chunk deleted from the backlog commit together: exactly once),
 * one instance at a time (an advisory lock). The live writers go on adding to the backlog meanwhile; for the last
 * chunk they wait (the stop row locked), and the stop is deleted in the same transaction: from the next live
 * transaction on, the model is written with the others. A model that still fails stays stopped, with the attempt's reason. Meanwhile
 * {@code readside-read-models} is DOWN on {@code /q/health/well}, {@code readside_read_model_stopped} is 1 for it
 * (alert {@code ReadsideReadModelStopped}) and {@code readside_read_model_backlog_changes} says how much waits.
 */
@Wellness
@Startup // its gauges exist from the start
@ApplicationScoped
public class ReadModelCatchUp implements HealthCheck {

    private static final Logger LOG = Logger.getLogger(ReadModelCatchUp.class);
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    /** Backlog entries per transaction. */
    static final int CHUNK = 200;

    static final String STOPS = """
            SELECT s.model, s.stopped_at, s.reason, s.stopped_on, s.attempts, s.last_failure, s.last_attempt,
                   (SELECT count(*) FROM read_model_backlog b WHERE b.model = s.model) AS waiting
              FROM read_model_stops s ORDER BY s.model""";
    /** The class of the catch-up's advisory locks ("RMCU"): one catch-up per model at a time, across instances. */
    static final int CATCH_UP_LOCKS = 0x524d4355;
    static final String ONE_AT_A_TIME = "SELECT pg_try_advisory_xact_lock($1, hashtext($2))";
    static final String STOPPED_HERE = "SELECT model FROM read_model_stops WHERE model = $1";
    /** Held for the last chunk and the join: a live writer adds to the backlog under this row's share lock. */
    static final String HOLD = "SELECT model FROM read_model_stops WHERE model = $1 FOR UPDATE";
    static final String NEXT = """
            SELECT seq, change::text FROM read_model_backlog WHERE model = $1 ORDER BY seq LIMIT $2""";
    static final String APPLIED = "DELETE FROM read_model_backlog WHERE model = $1 AND seq = ANY($2)";
    static final String JOINED = "DELETE FROM read_model_stops WHERE model = $1";
    static final String FAILED = """
            UPDATE read_model_stops SET last_attempt = now(), last_failure = $2, attempts = attempts + 1
             WHERE model = $1""";

    /** A stopped model as {@code read_model_stops} says. */
    public record Stopped(String model, Instant since, String reason, String stoppedOn, int attempts,
            String lastFailure, Instant lastAttempt, long waiting) {
    }

    @Inject
    Pool pool;
    @Inject
    OrdersProjector orders;
    @Inject
    MeterRegistry registry;
    @ConfigProperty(name = "readside.read-models.catch-up-every")
    Duration catchUpEvery;
    @Inject
    ReadModelBackfill backfill;

    private final AtomicReference<Map<String, ReadModelBackfill.Unfilled>> unfilled = new AtomicReference<>(Map.of());

    private final AtomicReference<Map<String, Stopped>> latest = new AtomicReference<>(Map.of());
    private volatile boolean closed;

    @PostConstruct
    void register() {
        for (OrdersReadModel model : orders.readModels()) {
            Gauge.builder("readside.read.model.stopped", latest, now -> now.get().containsKey(model.name()) ? 1 : 0)
                    .tag("model", model.name())
                    .description("1 while the read model is stopped on a change it failed on (the others go on)")
                    .register(registry);
            Gauge.builder("readside.read.model.backlog.changes", latest,
                    now -> now.get().containsKey(model.name()) ? now.get().get(model.name()).waiting() : 0)
                    .tag("model", model.name()).description("Changes a stopped read model has yet to catch up on")
                    .register(registry);
        }
    }

    /** What {@code read_model_stops} says now, kept for health and the gauges; and, when due, a catch-up. Blocks. */
    @Scheduled(every = "${readside.read-models.check-every}", delayed = "5s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void check() {
        if (closed) {
            return;
        }
        try {
            Map<String, Stopped> stopped = read();
            latest.set(stopped);
            boolean tried = false;
            for (OrdersReadModel model : orders.readModels()) {
                Stopped stop = stopped.get(model.name());
                if (stop != null && (stop.lastAttempt() == null
                        || stop.lastAttempt().plus(catchUpEvery).isBefore(Instant.now()))) {
                    catchUp(model);
                    tried = true;
                }
            }
            if (tried) { // what the catch-up changed
                latest.set(read());
            }
            unfilled.set(backfill.check());
        } catch (RuntimeException e) {
            if (!closed) {
                LOG.warnf("reading the stopped read models failed: %s", e.toString());
            }
        }
    }

    @PreDestroy
    void close() {
        closed = true;
    }

    Map<String, Stopped> read() {
        Map<String, Stopped> stopped = new TreeMap<>();
        pool.query(STOPS).execute().await().atMost(TIMEOUT).forEach(row -> stopped.put(row.getString("model"),
                new Stopped(row.getString("model"), row.getOffsetDateTime("stopped_at").toInstant(),
                        row.getString("reason"), row.getString("stopped_on"), row.getInteger("attempts"),
                        row.getString("last_failure"), row.getOffsetDateTime("last_attempt") == null ? null
                                : row.getOffsetDateTime("last_attempt").toInstant(),
                        row.getLong("waiting"))));
        return stopped;
    }

    /** Hands a stopped model its backlog, chunk by chunk; true once it joined the others. Blocks. */
    public boolean catchUp(OrdersReadModel model) {
        try {
            while (true) {
                Chunk chunk = pool.withTransaction(conn -> chunk(conn, model)).await().atMost(TIMEOUT);
                chunk.committed().counted().forEach(Runnable::run); // once committed
                Boolean joined = chunk.joined();
                if (joined != null) {
                    if (joined) {
                        LOG.infof("read model %s caught up on its backlog and joined the others", model.name());
                    }
                    return joined;
                }
            }
        } catch (RuntimeException e) {
            if (e instanceof PgException pg && "55P03".equals(pg.getSqlState())) { // live writers held the stop
                LOG.infof("read model %s: the live writers were busy at the join; it joins at the next try",
                        model.name());
                return false;
            }
            String reason = ReadModelStops.reason(e);
            LOG.warnf("read model %s is still stopped: catching up failed: %s", model.name(), reason);
            pool.preparedQuery(FAILED).execute(Tuple.of(model.name(), reason)).await().atMost(TIMEOUT);
            return false;
        }
    }

    /** A committed chunk: joined true when the model joined, false when it is not stopped here, null: more waits. */
    private record Chunk(Boolean joined, Committed committed) {
    }

    private Uni<Chunk> chunk(SqlConnection conn, OrdersReadModel model) {
        Tuple name = Tuple.of(model.name());
        return conn.preparedQuery(ONE_AT_A_TIME).execute(Tuple.of(CATCH_UP_LOCKS, model.name())).flatMap(got -> {
            if (!got.iterator().next().getBoolean(0)) {
                return Uni.createFrom().item(new Chunk(false, Committed.NOTHING)); // another instance is on it
            }
            return conn.preparedQuery(STOPPED_HERE).execute(name).flatMap(stopped -> {
                if (stopped.size() == 0) {
                    return Uni.createFrom().item(new Chunk(false, Committed.NOTHING));
                }
                return conn.preparedQuery(NEXT).execute(Tuple.of(model.name(), CHUNK)).flatMap(rows -> {
                    if (rows.size() == CHUNK) { // more after these: the live writers go on meanwhile
                        return handOver(conn, model, rows, false);
                    }
                    // the last ones: the live writers wait (they add to the backlog while the stop row is there),
                    // and the backlog is read again under the lock
                    return conn.query("SET LOCAL lock_timeout = '10s'").execute()
                            .chain(() -> conn.preparedQuery(HOLD).execute(name))
                            .chain(() -> conn.preparedQuery(NEXT).execute(Tuple.of(model.name(), CHUNK)))
                            .flatMap(last -> handOver(conn, model, last, last.size() < CHUNK));
                });
            });
        });
    }

    /** The rows handed over, deleted from the backlog, and, when {@code join}, the stop deleted. */
    private Uni<Chunk> handOver(SqlConnection conn, OrdersReadModel model, RowSet<Row> rows, boolean join) {
        List<Long> seqs = new ArrayList<>();
        List<ReadModelBacklog.Entry> entries = new ArrayList<>();
        rows.forEach(row -> {
            seqs.add(row.getLong(0));
            entries.add(ReadModelBacklog.read(row.getString(1)));
        });
        return handOver(conn, model, entries)
                .call(committed -> Outbox.addRecords(conn, committed.outputs(), null))
                .call(() -> conn.preparedQuery(APPLIED).execute(Tuple.of(model.name(), seqs.toArray(new Long[0]))))
                .call(() -> join ? conn.preparedQuery(JOINED).execute(Tuple.of(model.name()))
                        : Uni.createFrom().nullItem())
                .map(committed -> new Chunk(join ? Boolean.TRUE : null, committed));
    }

    /** The entries as the live transactions would have handed them: consecutive changes together, cancels alone. */
    private Uni<Committed> handOver(SqlConnection conn, OrdersReadModel model, List<ReadModelBacklog.Entry> entries) {
        List<Supplier<Uni<Committed>>> steps = new ArrayList<>();
        List<OrderChange> changes = new ArrayList<>();
        for (ReadModelBacklog.Entry entry : entries) {
            if (entry.change() != null) {
                changes.add(entry.change());
                continue;
            }
            List<OrderChange> before = List.copyOf(changes);
            changes.clear();
            steps.add(() -> apply(conn, model, before));
            steps.add(() -> model.cancelRequested(conn, entry.cancel(),
                    record(entry.partition(), entry.offset(), entry.cancel().request().orderId(), null), true));
        }
        List<OrderChange> rest = List.copyOf(changes);
        steps.add(() -> apply(conn, model, rest));
        List<Committed> parts = new ArrayList<>(steps.size());
        return InTurn.each(steps, step -> step.get().invoke(parts::add)).map(done -> Committed.all(parts));
    }

    private Uni<Committed> apply(SqlConnection conn, OrdersReadModel model, List<OrderChange> changes) {
        if (changes.isEmpty()) {
            return Uni.createFrom().item(Committed.NOTHING);
        }
        List<Batch.Input<OrdersTopicEvent>> inputs = changes.stream().map(change -> new Batch.Input<OrdersTopicEvent>(
                change.after(), record(change.partition(), change.offset(), change.orderId(), change.after().value()),
                change.streamTime())).toList();
        return model.apply(conn, changes, new Batch<>(inputs, true, changes.get(0).processedAt(), null));
    }

    private ConsumerRecord<byte[], byte[]> record(int partition, long offset, String orderId, byte[] value) {
        return new ConsumerRecord<>(orders.topic(), partition, offset, orderId.getBytes(StandardCharsets.UTF_8), value);
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("readside-read-models").up();
        latest.get().values().forEach(stop -> response.down().withData(stop.model(), "stopped since " + stop.since()
                + " on " + stop.stoppedOn() + ": " + stop.reason() + "; " + stop.waiting() + " changes wait for it"
                + (stop.lastFailure() == null ? "" : "; the last catch-up (" + stop.attempts() + " so far) failed: "
                        + stop.lastFailure())
                + "; it catches up on its own once fixed (at start and every readside.read-models.catch-up-every)"));
        unfilled.get().values().forEach(model -> {
            response.withData(model.model(), "new since " + model.registeredAt() + ": it fills itself once "
                    + "readside.read-models.backfill-after has passed (" + model.attempts() + " tries so far); until "
                    + "then its tables hold only what changed since"
                    + (model.lastFailure() == null ? "" : "; the last try failed: " + model.lastFailure()));
            if (model.lastFailure() != null) {
                response.down();
            }
        });
        return response.build();
    }
}
