package io.readside.projection.outbox;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.readside.projection.Output;
import io.readside.projection.tracing.TraceHeaders;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.core.buffer.Buffer;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Writes to the transactional outbox, always on the connection of the transaction whose change the message
 * announces: both commit or neither does. {@link OutboxRelay} publishes the rows, each with the trace context it was
 * written in (README "Tracing").
 */
public final class Outbox {

    static final String ADD = """
            INSERT INTO outbox (topic, message_key, event_type, payload, trace_context) VALUES ($1, $2, $3, $4, $5)
            RETURNING id""";

    static final String ADD_ALL = """
            INSERT INTO outbox (topic, message_key, event_type, payload, trace_context)
            SELECT $1, r.message_key, $2, r.payload, $5 FROM unnest($3::text[], $4::text[]) WITH ORDINALITY
                AS r(message_key, payload, n)
             ORDER BY r.n""";

    static final String ADD_RECORDS = """
            INSERT INTO outbox (topic, event_type, records, record_count, trace_context)
            SELECT r.topic, 'records', r.records, r.record_count, $4
              FROM unnest($1::text[], $2::bytea[], $3::int[]) WITH ORDINALITY AS r(topic, records, record_count, n)
             ORDER BY r.n""";

    private Outbox() {
    }

    /**
     * What a transaction publishes ({@code outputs}, in order): one row per topic, in the order of each topic's first
     * output, written in {@code trace} (null for none). The caller's locks decide the order between transactions: a
     * row is written after every lock its transaction takes on what it publishes, so for one key a later commit
     * always has a higher id.
     */
    public static Uni<Void> addRecords(SqlConnection conn, List<Output> outputs, TraceHeaders trace) {
        if (outputs.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        Map<String, List<Output>> byTopic = new LinkedHashMap<>();
        outputs.forEach(output -> byTopic.computeIfAbsent(output.topic(), t -> new ArrayList<>()).add(output));
        String[] topics = byTopic.keySet().toArray(new String[0]);
        Buffer[] records = byTopic.values().stream().map(OutboxRecords::encode).map(Buffer::buffer)
                .toArray(Buffer[]::new);
        Integer[] counts = byTopic.values().stream().map(List::size).toArray(Integer[]::new);
        return conn.preparedQuery(ADD_RECORDS).execute(Tuple.of(topics, records, counts, json(trace)))
                .replaceWithVoid();
    }

    /**
     * One message; returns its outbox id. {@code trace}: the trace context of what wrote it (the command's request),
     * sent with the record; null for none.
     */
    public static Uni<Long> add(SqlConnection conn, String topic, String key, String type, String payload,
            TraceHeaders trace) {
        return conn.preparedQuery(ADD).execute(Tuple.of(topic, key, type, payload, json(trace)))
                .map(rows -> rows.iterator().next().getLong(0));
    }

    /** Messages of one type, in list order, written in one trace context ({@code trace}, null for none). */
    public static Uni<Void> addAll(SqlConnection conn, String topic, String type, List<String> keys,
            List<String> payloads, TraceHeaders trace) {
        if (keys.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return conn.preparedQuery(ADD_ALL).execute(Tuple.of(topic, type, keys.toArray(new String[0]),
                payloads.toArray(new String[0]), json(trace))).replaceWithVoid();
    }

    /** Column trace_context: {"traceparent": ..., "tracestate": ...} (tracestate only when there is one). */
    private static JsonObject json(TraceHeaders trace) {
        if (trace == null) {
            return null;
        }
        JsonObject json = new JsonObject().put(TraceHeaders.TRACEPARENT, trace.traceparent());
        if (trace.tracestate() != null) {
            json.put(TraceHeaders.TRACESTATE, trace.tracestate());
        }
        return json;
    }
}
