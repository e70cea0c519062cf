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
            SELECT topic, count(*) AS waiting, count(superseded_at) AS superseded, min(parked_at) AS oldest,
                   (array_agg(reason ORDER BY id DESC))[1] AS last_reason
              FROM parked_outputs WHERE resent_at IS NULL GROUP BY topic ORDER BY topic""";
    static final String LIST = """
            SELECT id, outbox_id, topic, message_key, octet_length(payload) AS value_bytes, reason, parked_at,
                   superseded_at, resent_at
              FROM parked_outputs WHERE $1::text IS NULL OR topic = $1 ORDER BY id DESC LIMIT $2""";
    static final String TAKE_WAITING = """
            SELECT id, topic, message_key, entity, payload, superseded_at IS NOT NULL AS superseded
              FROM parked_outputs WHERE resent_at IS NULL AND ($1::text IS NULL OR topic = $1) ORDER BY id FOR UPDATE""";
    static final String MARK_RESENT = "UPDATE parked_outputs SET resent_at = now() WHERE id = ANY($1)";

    /** Parked records not yet re-sent, per topic. */
    public record Waiting(String topic, long waiting, long superseded, Instant oldest, String lastReason) {
    }

    /** A parked record as listed (its key as text when it is short UTF-8, else its size only). */
    public record Parked(long id, long outboxId, String topic, String key, int keyBytes, int valueBytes, String reason,
            Instant parkedAt, Instant supersededAt, Instant resentAt) {
    }

    /** What a re-send did. */
    public record Resent(long resent, long superseded) {
    }

    @Inject
    Pool pool;
    @Inject
    Vertx vertx;
    @Inject
    MeterRegistry registry;
    @ConfigProperty(name = "readside.outputs.topics")
    List<String> topics;

    private final AtomicReference<List<Waiting>> latest = new AtomicReference<>(List.of());

    void start(@Observes StartupEvent event) {
        Gauge.builder("readside.outputs.parked.waiting", latest,
                waiting -> waiting.get().stream().mapToLong(Waiting::waiting).sum())
                .description("Records the broker refused for good, parked and not yet re-sent (cluster-wide)")
                .register(registry);
        topics.forEach(topic -> registry.counter("readside.outputs.parked", "topic", topic));
        refresh();
        vertx.setPeriodic(REFRESH_EVERY.toMillis(), id -> refresh());
    }

    /** As last measured (at most a few seconds old). */
    public List<Waiting> latest() {
        return latest.get();
    }

    private void refresh() {
        waiting().subscribe().with(latest::set,
                e -> LOG.debugf("counting the parked outputs failed: %s", e.getMessage()));
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
     * Re-sends the waiting records (of {@code topic}, or all when null) through the outbox in one transaction: those
     * not superseded go back in their original order; every one of them is marked re-sent.
     */
    public Uni<Resent> resend(String topic) {
        return pool.withTransaction(conn -> conn.preparedQuery(TAKE_WAITING).execute(Tuple.of(topic)).flatMap(rows -> {
            List<Long> ids = new ArrayList<>();
            List<Output> again = new ArrayList<>();
            long superseded = 0;
            for (Row row : rows) {
                ids.add(row.getLong("id"));
                if (row.getBoolean("superseded")) {
                    superseded++;
                } else {
                    again.add(new Output(row.getString("topic"), bytes(row, "message_key"), bytes(row, "payload"),
                            bytes(row, "entity")));
                }
            }
            Resent resent = new Resent(again.size(), superseded);
            if (ids.isEmpty()) {
                return Uni.createFrom().item(resent);
            }
            return Outbox.addRecords(conn, again, null)
                    .chain(() -> conn.preparedQuery(MARK_RESENT).execute(Tuple.of(ids.toArray(new Long[0]))))
                    .invoke(() -> LOG.infof("parked outputs%s: %d re-sent through the outbox, %d superseded (not sent)",
                            topic == null ? "" : " of " + topic, resent.resent(), resent.superseded()))
                    .replaceWith(resent);
        })).invoke(done -> refresh());
    }

    private static byte[] bytes(Row row, String column) {
        io.vertx.core.buffer.Buffer buffer = row.getBuffer(column) == null ? null : row.getBuffer(column).getDelegate();
        return buffer == null ? null : buffer.getBytes();
    }

    private static Instant instant(Row row, String column) {
        return row.getOffsetDateTime(column) == null ? null : row.getOffsetDateTime(column).toInstant();
    }
}
