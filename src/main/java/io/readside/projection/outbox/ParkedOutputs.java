package io.readside.projection.outbox;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.readside.projection.Output;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Outputs the broker refused for good, kept in {@code parked_outputs} with their bytes and the reason (the relay
 * parks them and goes on, {@link OutboxPublisher}): how many wait, cluster-wide (gauge
 * {@code readside_outputs_parked_waiting}, the wellness check, the status page), the list, and the operator's re-send
 * once the topic is fixed: the waiting records go back to the outbox in their original order, once, except those whose
 * entity (an order, a window) had a later record published since (re-sending one would move it backwards): those are
 * reported as superseded and not sent.
 */
@ApplicationScoped
public class ParkedOutputs {

    private static final Logger LOG = Logger.getLogger(ParkedOutputs.class);
    private static final Duration REFRESH_EVERY = Duration.ofSeconds(5);

    static final String WAITING = """
            SELECT w.topic, w.waiting, w.superseded, w.oldest,
                   (SELECT p.reason FROM parked_outputs p WHERE p.resent_at IS NULL AND p.topic = w.topic
                     ORDER BY p.id DESC LIMIT 1) AS last_reason
              FROM (SELECT topic, count(*) AS waiting, count(superseded_at) AS superseded, min(parked_at) AS oldest
                      FROM parked_outputs WHERE resent_at IS NULL GROUP BY topic) w
             ORDER BY w.topic""";
    /** Seconds since the oldest unpublished outbox row was written (0: none), measured on every instance. */
    static final String OLDEST_UNPUBLISHED = """
            SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM (
                SELECT created_at FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 1) o""";
    /** The relay's lock, for a re-send's transaction: it runs between two relay batches ($1: how long it waits). */
    static final String RELAY_LOCK_TIMEOUT = "SELECT set_config('lock_timeout', $1, true)";
    static final String BETWEEN_RELAY_BATCHES = "SELECT pg_advisory_xact_lock(hashtext('readside-outbox-relay'))";
    /**
     * After the transactions writing to the outbox now have committed, and before any other writes: a version of an
     * entity written by a transaction still open would otherwise be invisible to the re-send, get a lower id than the
     * re-sent record, and be published before it (moving the entity backwards). Writers wait for the re-send.
     */
    static final String AFTER_OUTBOX_WRITES_IN_FLIGHT = "LOCK TABLE outbox IN SHARE ROW EXCLUSIVE MODE";
    /** While the re-send waits for that lock, new outbox writers queue behind it: a short wait, then 409. */
    static final String WRITERS_LOCK_TIMEOUT = "SELECT set_config('lock_timeout', '5s', true)";
    /** Rows not yet published (a re-send waits for the relay), ids first; an outputs' row's entities one at a time. */
    static final String PENDING = """
            SELECT id FROM outbox WHERE published_at IS NULL AND records IS NOT NULL
               AND ($1::text IS NULL OR topic = $1) ORDER BY id LIMIT $2""";
    static final String PENDING_ROW = """
            SELECT topic, records, event_type = 'resent' AS resent FROM outbox
             WHERE id = $1 AND event_type IN ('records', 'resent')""";
    static final String LIST = """
            SELECT id, outbox_id, topic, message_key, octet_length(payload) AS value_bytes, reason, parked_at,
                   superseded_at, resent_at
              FROM parked_outputs WHERE $1::text IS NULL OR topic = $1 ORDER BY id DESC LIMIT $2""";
    /** In id order, while the bytes taken before a record are below $3 (at least one record), at most $2. */
    static final String TAKE_WAITING = """
            SELECT id, outbox_id, topic, message_key, entity, payload, superseded_at IS NOT NULL AS superseded,
                   EXISTS (SELECT 1 FROM outbox o WHERE o.id = outbox_id AND o.published_at IS NULL) AS own_row_waits
              FROM parked_outputs
             WHERE id IN (SELECT id FROM (SELECT id, sum(size) OVER (ORDER BY id) - size AS before FROM (
                     SELECT id, coalesce(octet_length(payload), 0) + coalesce(octet_length(message_key), 0) AS size
                       FROM parked_outputs WHERE resent_at IS NULL AND ($1::text IS NULL OR topic = $1)
                      ORDER BY id LIMIT $2) p) w WHERE w.before < $3)
               AND resent_at IS NULL
             ORDER BY id FOR UPDATE""";
    /** A re-send takes at most this many parked records (the answer says how many remain). */
    static final int RESEND_AT_MOST = 10_000;
    /** ... and the records' bytes it holds at once (as the relay's batch-bytes), at least one record. */
    static final long RESEND_AT_MOST_BYTES = 8L << 20;
    /** A re-send waits while the relay has more unpublished rows of the topic than this. */
    static final int PENDING_AT_MOST = 50;
    static final String MARK_RESENT = "UPDATE parked_outputs SET resent_at = now() WHERE id = ANY($1)";
    static final String REMAINING = """
            SELECT count(*) FROM parked_outputs WHERE resent_at IS NULL AND ($1::text IS NULL OR topic = $1)""";

    /** Parked records not yet re-sent, per topic. */
    public record Waiting(String topic, long waiting, long superseded, Instant oldest, String lastReason) {
    }

    /** A parked record as listed (its key as text when it is short UTF-8, else its size only). */
    public record Parked(long id, long outboxId, String topic, String key, int keyBytes, int valueBytes, String reason,
            Instant parkedAt, Instant supersededAt, Instant resentAt) {
    }

    /** What a re-send did; {@code remaining}: parked records still waiting (a re-send takes 10,000 and 8 MiB). */
    public record Resent(long resent, long superseded, long remaining) {
    }

    /** The relay has too many unpublished rows of the topic to tell what a parked record would overtake. */
    public static class RelayBusy extends RuntimeException {
        RelayBusy(String message) {
            super(message);
        }
    }

    @Inject
    Pool pool;
    @Inject
    Vertx vertx;
    @Inject
    MeterRegistry registry;
    @ConfigProperty(name = "readside.outputs.topics")
    List<String> topics;
    /** The longest wait for the relay's lock the setting may ask for (the endpoint waits {@link #answerWithin()}). */
    static final Duration WAITS_AT_MOST = Duration.ofSeconds(50);
    /** {@code wait}, if within 100ms..{@link #WAITS_AT_MOST}: anything else stops the start. */
    static Duration checkedWait(Duration wait) {
        if (wait.compareTo(Duration.ofMillis(100)) < 0 || wait.compareTo(WAITS_AT_MOST) > 0) {
            throw new IllegalArgumentException("readside.outputs.resend-waits-for-relay=" + wait + " is outside 100ms.."
                    + WAITS_AT_MOST.toSeconds() + "s");
        }
        return wait;
    }

    /** How long a re-send waits for the relay's lock (the relay publishing a batch, or waiting for the broker). */
    @ConfigProperty(name = "readside.outputs.resend-waits-for-relay", defaultValue = "20s")
    Duration waitsForRelay;

    private final AtomicReference<List<Waiting>> latest = new AtomicReference<>(List.of());
    private final java.util.concurrent.atomic.AtomicReference<Double> oldestUnpublished = new AtomicReference<>(0.0);

    void start(@Observes StartupEvent event) {
        checkedWait(waitsForRelay);
        Gauge.builder("readside.outputs.parked.waiting", latest,
                waiting -> waiting.get().stream().mapToLong(Waiting::waiting).sum())
                .description("Records the broker refused for good, parked and not yet re-sent (cluster-wide)")
                .register(registry);
        topics.forEach(topic -> registry.counter("readside.outputs.parked", "topic", topic));
        Gauge.builder("readside.outbox.oldest.unpublished.seconds", oldestUnpublished, AtomicReference::get)
                .description("Age of the oldest outbox row not yet published (0: none), read from PostgreSQL")
                .register(registry);
        refresh();
        vertx.setPeriodic(REFRESH_EVERY.toMillis(), id -> refresh());
    }

    /** Seconds since the oldest unpublished outbox row was written (0: none), as last measured. */
    public double oldestUnpublishedSeconds() {
        return oldestUnpublished.get();
    }

    public List<Waiting> latest() {
        return latest.get();
    }

    private void refresh() {
        waiting().subscribe().with(latest::set,
                e -> LOG.debugf("counting the parked outputs failed: %s", e.getMessage()));
        pool.query(OLDEST_UNPUBLISHED).execute().subscribe().with(
                rows -> oldestUnpublished.set(rows.iterator().next().getDouble(0)),
                e -> LOG.debugf("measuring the outbox's backlog failed: %s", e.getMessage()));
    }

    public Uni<List<Waiting>> waiting() {
        return pool.query(WAITING).execute().map(rows -> {
            List<Waiting> waiting = new ArrayList<>();
            for (Row row : rows) {
                waiting.add(new Waiting(row.getString("topic"), row.getLong("waiting"), row.getLong("superseded"),
                        row.getOffsetDateTime("oldest").toInstant(), row.getString("last_reason")));
            }
            return waiting;
        });
    }

    /** The latest {@code limit} parked records (of {@code topic}, or all when null), newest first. */
    public Uni<List<Parked>> list(String topic, int limit) {
        return pool.preparedQuery(LIST).execute(Tuple.of(topic, limit)).map(rows -> {
            List<Parked> parked = new ArrayList<>();
            for (Row row : rows) {
                byte[] key = bytes(row, "message_key");
                parked.add(new Parked(row.getLong("id"), row.getLong("outbox_id"), row.getString("topic"),
                        OutboxRecords.printable(key), key == null ? -1 : key.length,
                        row.getInteger("value_bytes") == null ? -1 : row.getInteger("value_bytes"),
                        row.getString("reason"), instant(row, "parked_at"), instant(row, "superseded_at"),
                        instant(row, "resent_at")));
            }
            return parked;
        });
    }

    /**
     * Re-sends the waiting records (of {@code topic}, or all when null; at most {@value #RESEND_AT_MOST}, and 8 MiB
     * past the first) through the outbox in one transaction, between two relay batches and after the outbox writes in
     * flight: those whose entity had a later record published since, or has one waiting in the outbox, are not sent
     * (superseded: they would move it backwards); the others go back in their original order, after everything the
     * outbox holds; every one taken is marked re-sent.
     *
     * @throws RelayBusy (as the item's failure) when the relay has a backlog of the topic or holds its lock too long
     */
    public Uni<Resent> resend(String topic) {
        return pool.withTransaction(conn -> conn.preparedQuery(RELAY_LOCK_TIMEOUT)
                .execute(Tuple.of(waitsForRelay.toMillis() + "ms"))
                .chain(() -> conn.query(BETWEEN_RELAY_BATCHES).execute())
                .chain(() -> conn.query(WRITERS_LOCK_TIMEOUT).execute())
                .chain(() -> conn.query(AFTER_OUTBOX_WRITES_IN_FLIGHT).execute())
                .onFailure(ParkedOutputs::lockTimeout)
                .transform(e -> new RelayBusy("the outbox relay kept its lock for " + waitsForRelay.toMillis()
                        + " ms (publishing a batch, waiting for the broker), or a transaction writing to the outbox for"
                        + " 5000 ms; try again"))
                .chain(() -> conn.preparedQuery(PENDING).execute(Tuple.of(topic, PENDING_AT_MOST + 1)))
                .flatMap(pending -> {
                    if (pending.size() > PENDING_AT_MOST) {
                        throw new RelayBusy("the outbox relay has more than " + PENDING_AT_MOST + " unpublished rows"
                                + (topic == null ? "" : " of " + topic) + "; re-send once it has caught up");
                    }
                    java.util.Set<String> waitingInOutbox = new java.util.HashSet<>();
                    return io.smallrye.mutiny.Multi.createFrom().iterable(pending)
                            .onItem().transformToUniAndConcatenate(id -> conn.preparedQuery(PENDING_ROW)
                                    .execute(Tuple.of(id.getLong("id"))).invoke(rows -> rows.forEach(row ->
                                            waitingIn(row, waitingInOutbox))))
                            .collect().last()
                            .chain(() -> conn.preparedQuery(TAKE_WAITING)
                                    .execute(Tuple.of(topic, RESEND_AT_MOST, RESEND_AT_MOST_BYTES)))
                            .flatMap(rows -> requeue(conn, topic, rows, waitingInOutbox));
                })).onFailure(ParkedOutputs::lockTimeout)
                .transform(e -> new RelayBusy("a lock the re-send needs (on the parked records) was held longer than"
                        + " 5000 ms; try again"))
                .invoke(done -> refresh());
    }

    /** The entities an unpublished row's records carry (re-sent: as parked, a command none), as the relay's. */
    private static void waitingIn(Row row, java.util.Set<String> waiting) {
        for (OutboxRecords.KeyValue record : OutboxRecords.decode(bytes(row, "records"))) {
            byte[] entity = row.getBoolean("resent") || record.entity() != null ? record.entity() : record.key();
            if (entity != null) {
                waiting.add(entity(row.getString("topic"), entity));
            }
        }
    }

    /** PostgreSQL's lock_not_available: a lock_timeout ran out. */
    private static boolean lockTimeout(Throwable e) {
        return e instanceof io.vertx.pgclient.PgException pg && "55P03".equals(pg.getSqlState());
    }

    /** How long the endpoint waits for a re-send's answer: its waits for the locks, and time for the work. */
    public Duration answerWithin() {
        return waitsForRelay.plus(Duration.ofSeconds(35));
    }

    private Uni<Resent> requeue(io.vertx.mutiny.sqlclient.SqlConnection conn, String topic,
            io.vertx.mutiny.sqlclient.RowSet<Row> rows, java.util.Set<String> waitingInOutbox) {
        List<Long> ids = new ArrayList<>();
        List<Output> again = new ArrayList<>();
        long superseded = 0;
        for (Row row : rows) {
            if (row.getBoolean("own_row_waits")) {
                continue; // parked by a relay that lost its session before the mark: the row goes again, it waits
            }
            ids.add(row.getLong("id"));
            byte[] key = bytes(row, "message_key");
            byte[] entity = bytes(row, "entity");
            if (row.getBoolean("superseded")
                    || entity != null && waitingInOutbox.contains(entity(row.getString("topic"), entity))) {
                superseded++;
            } else {
                again.add(new Output(row.getString("topic"), key, bytes(row, "payload"), entity));
            }
        }
        long skipped = superseded;
        return Outbox.addRecords(conn, again, null, Outbox.RESENT)
                .chain(() -> conn.preparedQuery(MARK_RESENT).execute(Tuple.of(ids.toArray(new Long[0]))))
                .chain(() -> conn.preparedQuery(REMAINING).execute(Tuple.of(topic)))
                .map(left -> new Resent(again.size(), skipped, left.iterator().next().getLong(0)))
                .invoke(done -> LOG.infof("parked outputs%s: %d re-sent through the outbox, %d superseded (not sent), "
                        + "%d still waiting", topic == null ? "" : " of " + topic, done.resent(), done.superseded(),
                        done.remaining()));
    }

    /** An entity of a topic as a set member (bytes as hex: any bytes compare exactly). */
    private static String entity(String topic, byte[] entity) {
        return topic + '/' + (entity == null ? "-" : java.util.HexFormat.of().formatHex(entity));
    }

    private static byte[] bytes(Row row, String column) {
        io.vertx.core.buffer.Buffer buffer = row.getBuffer(column) == null ? null : row.getBuffer(column).getDelegate();
        return buffer == null ? null : buffer.getBytes();
    }

    private static Instant instant(Row row, String column) {
        return row.getOffsetDateTime(column) == null ? null : row.getOffsetDateTime(column).toInstant();
    }
}
