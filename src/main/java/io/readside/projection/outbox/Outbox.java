package io.readside.projection.outbox;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.readside.projection.Output;
import io.readside.projection.tracing.TraceHeaders;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.core.buffer.Buffer;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Writes to the transactional outbox, always on the connection of the transaction whose change the message
 * announces: both commit or neither does. {@link OutboxRelay} publishes the rows, each with the trace context it was
 * written in (docs/operations.md, "Tracing").
 */
public final class Outbox {

    static final String ADD = """
            INSERT INTO outbox (topic, message_key, event_type, payload, trace_context) VALUES ($1, $2, $3, $4, $5)
            RETURNING id""";

    static final String ADD_RECORDS = """
            INSERT INTO outbox (topic, event_type, records, trace_context)
            SELECT r.topic, $3, r.records, $4
              FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS r(topic, records, n)
             ORDER BY r.n
            RETURNING id, created_at, xmin::text::bigint AS version, topic, octet_length(records) AS bytes""";

    /** A row of records: a projection's outputs (each the state of an entity: a later one supersedes it). */
    static final String RECORDS = "records";
    /** A row of records re-sent by an operator (parked before): they supersede no parked record. */
    static final String RESENT = "resent";
    // a row of records of another type is messages of that type (addAll): commands, which carry no entity's state
    /** A row of records holds at most this many bytes (past its first record): the relay reads rows whole. */
    static final int MAX_ROW_BYTES = 4 << 20;

    private Outbox() {
    }

    /**
     * What a transaction publishes ({@code outputs}, in order): one row per topic, in the order of each topic's first
     * output (split into rows of at most {@value #MAX_ROW_BYTES} bytes, in order), written in {@code trace} (null for
     * none). The caller's locks decide the order between transactions: a row is written after every lock its
     * transaction takes on what it publishes, so for one key a later commit always has a higher id.
     */
    public static Uni<Void> addRecords(SqlConnection conn, List<Output> outputs, TraceHeaders trace) {
        return addRecords(conn, outputs, trace, RECORDS);
    }

    static Uni<Void> addRecords(SqlConnection conn, List<Output> outputs, TraceHeaders trace, String type) {
        if (outputs.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        Map<String, List<Output>> byTopic = new LinkedHashMap<>();
        outputs.forEach(output -> byTopic.computeIfAbsent(output.topic(), t -> new ArrayList<>()).add(output));
        List<String> topics = new ArrayList<>();
        List<Buffer> rows = new ArrayList<>();
        List<List<Output>> ofRows = new ArrayList<>();
        byTopic.forEach((topic, ofTopic) -> {
            for (List<Output> row : OutboxRecords.rows(ofTopic, MAX_ROW_BYTES)) {
                topics.add(topic);
                rows.add(Buffer.buffer(OutboxRecords.encode(row)));
                ofRows.add(row);
            }
        });
        return conn.preparedQuery(ADD_RECORDS).execute(Tuple.of(topics.toArray(new String[0]),
                rows.toArray(new Buffer[0]), type, json(trace)))
                .invoke(written -> hand(written, topics, rows, ofRows)).replaceWithVoid();
    }

    /**
     * The rows just written, handed to this process's relay ({@link HandedRows}): in id order they are the rows in
     * the order written (the sequence gives ids in the insert's order), each checked by its topic and size.
     */
    private static void hand(RowSet<Row> written, List<String> topics, List<Buffer> rows, List<List<Output>> ofRows) {
        List<Row> byId = new ArrayList<>(written.size());
        written.forEach(byId::add);
        byId.sort(Comparator.comparingLong(row -> row.getLong("id")));
        for (int i = 0; i < byId.size() && byId.size() == rows.size(); i++) {
            Row row = byId.get(i);
            int bytes = row.getInteger("bytes");
            if (!topics.get(i).equals(row.getString("topic")) || bytes != rows.get(i).length()) {
                return;
            }
            List<OutboxRecords.KeyValue> records = ofRows.get(i).stream()
                    .map(output -> new OutboxRecords.KeyValue(output.key(), output.value(), output.entity())).toList();
            HandedRows.WRITTEN.add(row.getLong("id"), new HandedRows.Handed(
                    row.getOffsetDateTime("created_at").toInstant(), row.getLong("version"), bytes, records));
        }
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

    /**
     * Messages of one type (a command per key: a payment request per new order), in list order, written in one trace
     * context ({@code trace}, null for none): one row of records per {@value #MAX_ROW_BYTES} bytes, not a row per
     * message (the relay sends each with its row's id and its place in the row, {@code readside-outbox-id:
     * <id>:<index>}; a command carries no entity's state, so nothing supersedes it when it is parked).
     */
    public static Uni<Void> addAll(SqlConnection conn, String topic, String type, List<String> keys,
            List<String> payloads, TraceHeaders trace) {
        if (keys.size() != payloads.size()) {
            throw new IllegalArgumentException(keys.size() + " keys for " + payloads.size() + " payloads");
        }
        List<Output> messages = new ArrayList<>(keys.size());
        for (int i = 0; i < keys.size(); i++) {
            messages.add(new Output(topic, keys.get(i) == null ? null : keys.get(i).getBytes(StandardCharsets.UTF_8),
                    payloads.get(i).getBytes(StandardCharsets.UTF_8)));
        }
        return addRecords(conn, messages, trace, type);
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
