package io.readside.projection.outbox;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.MeterRegistry;
import io.readside.projection.DeadLetters;
import io.readside.projection.outbox.RelaySends.TopicKey;
import io.vertx.core.buffer.Buffer;
import io.vertx.mutiny.pgclient.PgConnection;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * After a relay batch: the records the broker refused for good go to {@code parked_outputs} with their bytes and the
 * reason (an ERROR line each, without the record's content; counter {@code readside.outputs.parked} per topic), and
 * a parked record of an entity ({@link io.readside.projection.Output#entity}: an order, a window) this batch published
 * later is marked superseded (a re-send would move that entity backwards). On the relay's session, before the batch's rows are marked published: a failure in between publishes
 * the batch again, and parks its refused records again.
 */
final class RelayParking {

    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);

    static final String WAITING_KEYS = """
            SELECT DISTINCT topic, coalesce(entity, message_key) AS entity FROM parked_outputs
             WHERE resent_at IS NULL AND superseded_at IS NULL AND coalesce(entity, message_key) IS NOT NULL""";
    static final String SUPERSEDE = """
            UPDATE parked_outputs p SET superseded_at = now()
              FROM unnest($1::text[], $2::bytea[]) AS k(topic, entity)
             WHERE p.resent_at IS NULL AND p.superseded_at IS NULL AND p.topic = k.topic
               AND coalesce(p.entity, p.message_key) = k.entity""";
    static final String PARK = """
            INSERT INTO parked_outputs (outbox_id, topic, message_key, entity, payload, reason, superseded_at)
            SELECT r.outbox_id, r.topic, r.message_key, r.entity, r.payload, r.reason,
                   CASE WHEN r.superseded THEN now() END
              FROM unnest($1::bigint[], $2::text[], $3::bytea[], $4::bytea[], $5::bytea[], $6::text[], $7::bool[])
                   WITH ORDINALITY AS r(outbox_id, topic, message_key, entity, payload, reason, superseded, n)
             ORDER BY r.n""";

    private RelayParking() {
    }

    static void park(PgConnection conn, List<ProducerRecord<byte[], byte[]>> records, List<byte[]> entities,
            List<Long> recordRows, RelaySends.Outcome outcome, MeterRegistry registry) {
        Set<TopicKey> waiting = new HashSet<>();
        for (Row row : OutboxRelay.sql(conn.query(WAITING_KEYS).execute())) {
            waiting.add(new TopicKey(row.getString("topic"), row.getBuffer("entity").getBytes()));
        }
        Map<Integer, Exception> refused = outcome.refused();
        if (waiting.isEmpty() && refused.isEmpty()) {
            return; // the usual case: one query
        }
        // earlier parked records of keys this batch published: superseded
        Set<TopicKey> superseded = new HashSet<>();
        Map<TopicKey, Integer> lastPublished = new HashMap<>();
        for (int i = 0; i < records.size(); i++) {
            TopicKey key = entity(records.get(i), entities.get(i));
            if (key != null && !refused.containsKey(i)) {
                lastPublished.put(key, i);
                if (waiting.contains(key)) {
                    superseded.add(key);
                }
            }
        }
        if (!superseded.isEmpty()) {
            OutboxRelay.sql(conn.preparedQuery(SUPERSEDE).execute(Tuple.of(
                    superseded.stream().map(TopicKey::topic).toArray(String[]::new),
                    superseded.stream().map(key -> Buffer.buffer(key.key())).toArray(Buffer[]::new))));
        }
        if (refused.isEmpty()) {
            return;
        }
        List<Long> outboxIds = new ArrayList<>();
        List<String> topics = new ArrayList<>();
        List<Buffer> keys = new ArrayList<>();
        List<Buffer> entityBytes = new ArrayList<>();
        List<Buffer> values = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        List<Boolean> supersededHere = new ArrayList<>();
        refused.forEach((i, error) -> {
            ProducerRecord<byte[], byte[]> record = records.get(i);
            String reason = DeadLetters.describe(error);
            outboxIds.add(recordRows.get(i));
            topics.add(record.topic());
            keys.add(record.key() == null ? null : Buffer.buffer(record.key()));
            entityBytes.add(entities.get(i) == null ? null : Buffer.buffer(entities.get(i)));
            values.add(record.value() == null ? null : Buffer.buffer(record.value()));
            reasons.add(reason);
            TopicKey key = entity(record, entities.get(i));
            supersededHere.add(key != null && lastPublished.getOrDefault(key, -1) > i);
            registry.counter("readside.outputs.parked", "topic", record.topic()).increment();
            LOG.errorf("%s: the broker refused a record for good (outbox row %d, key of %d bytes, value of %d bytes): "
                    + "%s; parked in parked_outputs, the relay goes on (re-send it with POST "
                    + "/admin/parked-outputs/resend once the topic is fixed)", record.topic(), recordRows.get(i),
                    record.key() == null ? 0 : record.key().length, record.value() == null ? 0 : record.value().length,
                    reason);
        });
        OutboxRelay.sql(conn.preparedQuery(PARK).execute(Tuple.from(List.<Object> of(outboxIds.toArray(new Long[0]),
                topics.toArray(new String[0]), keys.toArray(new Buffer[0]), entityBytes.toArray(new Buffer[0]),
                values.toArray(new Buffer[0]),
                reasons.toArray(new String[0]), supersededHere.toArray(new Boolean[0])))));
    }

    private static TopicKey entity(ProducerRecord<byte[], byte[]> record, byte[] entity) {
        return entity == null ? null : new TopicKey(record.topic(), entity);
    }
}
