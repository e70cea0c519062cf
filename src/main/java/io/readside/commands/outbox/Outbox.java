package io.readside.commands.outbox;

import java.util.List;

import io.readside.projection.tracing.TraceHeaders;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
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

    private Outbox() {
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
