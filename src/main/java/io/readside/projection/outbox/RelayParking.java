package io.readside.projection.outbox;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.MeterRegistry;
import io.readside.projection.DeadLetters;
import io.readside.projection.outbox.RelaySends.TopicKey;
import io.vertx.core.buffer.Buffer;
import io.vertx.mutiny.pgclient.PgConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * After a relay batch: the records the broker refused for good go to {@code parked_outputs} with their bytes and the
 * reason (an ERROR line each, without the record's content; counter {@code readside.outputs.parked} per topic), and
 * a parked record of an entity ({@link io.readside.projection.Output#entity}: an order, a window) this batch published
 * later is marked superseded (a re-send would move that entity backwards). On the relay's session, before the
 * batch's rows are marked published: a failure in between publishes the batch again, and parks nothing twice.
 */
final class RelayParking {

    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);

    static final String ANY_SUPERSEDABLE = """
            SELECT EXISTS (SELECT 1 FROM parked_outputs WHERE resent_at IS NULL AND superseded_at IS NULL)""";
    static final String SUPERSEDE = """
            UPDATE parked_outputs p SET superseded_at = now()
              FROM (SELECT DISTINCT topic, entity FROM unnest($1::text[], $2::bytea[]) AS k(topic, entity)) k
             WHERE p.resent_at IS NULL AND p.superseded_at IS NULL AND p.topic = k.topic
               AND p.entity = k.entity""";
    /**
     * A parked record of this batch's rows that the broker took this time (a relay parked it and lost its session
     * before the mark; its row went again): sent, so a re-send would send it twice. $2, $3: what is refused now.
     */
    static final String SENT_BY_ITS_ROW = """
            UPDATE parked_outputs p SET superseded_at = now()
             WHERE p.resent_at IS NULL AND p.superseded_at IS NULL AND p.outbox_id = ANY($1)
               AND (p.outbox_id, p.record_index) NOT IN (SELECT * FROM unnest($2::bigint[], $3::int[]))""";
    /** Once per record of an outbox row: a batch published again after a crash parks nothing twice. */
    static final String PARK = """
            INSERT INTO parked_outputs (outbox_id, record_index, topic, message_key, entity, payload, reason,
                                        superseded_at)
            SELECT r.outbox_id, r.record_index, r.topic, r.message_key, r.entity, r.payload, r.reason,
                   CASE WHEN r.superseded THEN now() END
              FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bytea[], $5::bytea[], $6::bytea[], $7::text[],
                          $8::bool[]) WITH ORDINALITY
                   AS r(outbox_id, record_index, topic, message_key, entity, payload, reason, superseded, n)
             ORDER BY r.n
            ON CONFLICT (outbox_id, record_index) DO NOTHING""";

    /**
     * Where a record of the batch came from; {@code entity}: whose state it carries (an order, a window), null for a
     * command or an event; {@code supersedes}: false for a record an operator re-sent.
     */
    record Origin(long outboxId, int index, byte[] entity, boolean supersedes) {
    }

    /** An outbox row whose records cannot be read: parked whole (not re-sendable), so the relay goes on. */
    record Unreadable(long outboxId, String topic, byte[] bytes, String reason) {
    }

    private RelayParking() {
    }

    /**
     * Parks the batch's refused records and unreadable rows, and marks superseded the waiting parked records of the
     * entities the batch published (records re-sent by an operator supersede nothing).
     */
    static void park(PgConnection conn, List<ProducerRecord<byte[], byte[]>> records, List<Origin> origins,
            List<Unreadable> unreadable, RelaySends.Outcome outcome, MeterRegistry registry) {
        Map<Integer, Exception> refused = outcome.refused();
        boolean anyWaiting = OutboxRelay.sql(conn.query(ANY_SUPERSEDABLE).execute()).iterator().next().getBoolean(0);
        if (!anyWaiting && refused.isEmpty() && unreadable.isEmpty()) {
            return; // the usual case: one query
        }
        Map<TopicKey, Integer> lastPublished = new HashMap<>();
        for (int i = 0; i < records.size(); i++) {
            TopicKey entity = entity(records.get(i), origins.get(i));
            if (entity != null && !refused.containsKey(i)) {
                lastPublished.put(entity, i);
            }
        }
        if (anyWaiting) {
            sentByItsRow(conn, origins, unreadable, refused);
        }
        if (anyWaiting && !lastPublished.isEmpty()) { // before this batch's own are parked
            OutboxRelay.sql(conn.preparedQuery(SUPERSEDE).execute(Tuple.of(
                    lastPublished.keySet().stream().map(TopicKey::topic).toArray(String[]::new),
                    lastPublished.keySet().stream().map(key -> Buffer.buffer(key.key())).toArray(Buffer[]::new))));
        }
        Parked parked = new Parked();
        Map<String, Refusals> perTopic = new java.util.TreeMap<>();
        refused.forEach((i, error) -> {
            ProducerRecord<byte[], byte[]> record = records.get(i);
            Origin origin = origins.get(i);
            String reason = DeadLetters.describe(error);
            TopicKey entity = entity(record, origin);
            parked.add(origin.outboxId(), origin.index(), record.topic(), record.key(), origin.entity(),
                    record.value(), reason, entity != null && lastPublished.getOrDefault(entity, -1) > i);
            registry.counter("readside.outputs.parked", "topic", record.topic()).increment();
            LOG.debugf("%s: the broker refused a record for good (outbox row %d, key of %d bytes, value of %d bytes): "
                    + "%s", record.topic(), origin.outboxId(), record.key() == null ? 0 : record.key().length,
                    record.value() == null ? 0 : record.value().length, reason);
            perTopic.computeIfAbsent(record.topic(), t -> new Refusals(reason)).count++;
        });
        // one ERROR line per topic and batch, not per record (a topic that refuses everything would flood the log)
        perTopic.forEach((topic, refusals) -> LOG.errorf("%s: the broker refused %d records of this relay batch for "
                + "good (the first: %s); parked in parked_outputs, the relay goes on (re-send them with POST "
                + "/admin/parked-outputs/resend once the topic is fixed)", topic, refusals.count, refusals.first));
        for (Unreadable row : unreadable) {
            parked.add(row.outboxId(), -1, row.topic(), null, null, row.bytes(), row.reason(), true);
            registry.counter("readside.outputs.parked", "topic", row.topic()).increment();
            LOG.errorf("%s: outbox row %d cannot be read (%s); parked whole in parked_outputs (not re-sendable), the "
                    + "relay goes on", row.topic(), row.outboxId(), row.reason());
        }
        if (!parked.outboxIds.isEmpty()) {
            OutboxRelay.sql(conn.preparedQuery(PARK).execute(Tuple.from(List.<Object> of(
                    parked.outboxIds.toArray(new Long[0]), parked.indexes.toArray(new Integer[0]),
                    parked.topics.toArray(new String[0]), parked.keys.toArray(new Buffer[0]),
                    parked.entities.toArray(new Buffer[0]), parked.values.toArray(new Buffer[0]),
                    parked.reasons.toArray(new String[0]), parked.superseded.toArray(new Boolean[0])))));
        }
    }

    private static void sentByItsRow(PgConnection conn, List<Origin> origins, List<Unreadable> unreadable,
            Map<Integer, Exception> refused) {
        java.util.Set<Long> rows = new java.util.HashSet<>();
        origins.forEach(origin -> rows.add(origin.outboxId()));
        List<Long> refusedRows = new ArrayList<>();
        List<Integer> refusedIndexes = new ArrayList<>();
        refused.keySet().forEach(i -> {
            refusedRows.add(origins.get(i).outboxId());
            refusedIndexes.add(origins.get(i).index());
        });
        unreadable.forEach(row -> {
            refusedRows.add(row.outboxId());
            refusedIndexes.add(-1);
        });
        OutboxRelay.sql(conn.preparedQuery(SENT_BY_ITS_ROW).execute(Tuple.of(rows.toArray(new Long[0]),
                refusedRows.toArray(new Long[0]), refusedIndexes.toArray(new Integer[0]))));
    }

    /** A topic's refusals in a batch: the first reason, and how many. */
    private static final class Refusals {
        final String first;
        int count;

        Refusals(String first) {
            this.first = first;
        }
    }

    /** The columns of the parked rows, one list each. */
    private static final class Parked {
        final List<Long> outboxIds = new ArrayList<>();
        final List<Integer> indexes = new ArrayList<>();
        final List<String> topics = new ArrayList<>();
        final List<Buffer> keys = new ArrayList<>();
        final List<Buffer> entities = new ArrayList<>();
        final List<Buffer> values = new ArrayList<>();
        final List<String> reasons = new ArrayList<>();
        final List<Boolean> superseded = new ArrayList<>();

        void add(long outboxId, int index, String topic, byte[] key, byte[] entity, byte[] value, String reason,
                boolean isSuperseded) {
            outboxIds.add(outboxId);
            indexes.add(index);
            topics.add(topic);
            keys.add(key == null ? null : Buffer.buffer(key));
            entities.add(entity == null ? null : Buffer.buffer(entity));
            values.add(value == null ? null : Buffer.buffer(value));
            reasons.add(reason);
            superseded.add(isSuperseded);
        }
    }

    /** The entity a record supersedes the parked records of (null: a command or event, or a re-sent record). */
    private static TopicKey entity(ProducerRecord<byte[], byte[]> record, Origin origin) {
        return origin.entity() == null || !origin.supersedes() ? null : new TopicKey(record.topic(), origin.entity());
    }
}
