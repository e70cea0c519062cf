package io.readside.projection.outbox;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.producer.ProducerRecord;

import io.readside.projection.tracing.TraceHeaders;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * A relay's pass as read from the outbox: the unpublished rows in id order, each row's records taken from what this
 * process's transactions handed over ({@link HandedRows}) when they are that row's, else read from the outbox, and
 * turned into the records to send.
 */
final class RelayRows {

    /**
     * At most $1 rows and, past the first, $2 bytes (a projection's row holds up to Outbox.MAX_ROW_BYTES of records;
     * octet_length reads a stored value's size without reading the value); the records of the rows in $3 (the ids
     * handed over) are not read.
     */
    static final String UNPUBLISHED = """
            SELECT id, topic, message_key, payload, CASE WHEN id = ANY($3) THEN NULL ELSE records END AS records,
                   records IS NOT NULL AS batch, octet_length(records) AS bytes, event_type, created_at, version,
                   traceparent, tracestate
              FROM (SELECT id, topic, message_key, payload, records, event_type, created_at,
                           xmin::text::bigint AS version,
                           trace_context ->> 'traceparent' AS traceparent,
                           trace_context ->> 'tracestate' AS tracestate,
                           sum(coalesce(octet_length(records), octet_length(payload), 0)) OVER (ORDER BY id)
                               - coalesce(octet_length(records), octet_length(payload), 0) AS preceding
                      FROM outbox
                     WHERE published_at IS NULL ORDER BY id LIMIT $1) o
             WHERE preceding < $2
             ORDER BY id""";
    /**
     * The header that says where a message came from: its outbox row's id, and in a row of records (messages of one
     * type, even one) its place in it ({@code <id>:<index>}); the same on every copy the relay sends.
     */
    static final String OUTBOX_ID = "readside-outbox-id";
    /** The records of rows whose handed records were not theirs after all. */
    static final String RECORDS_OF = "SELECT id, records FROM outbox WHERE id = ANY($1)";

    private final RowSet<Row> rows;
    private final Map<Long, List<OutboxRecords.KeyValue>> taken = new HashMap<>();
    private final Map<Long, byte[]> read = new HashMap<>();

    private RelayRows(RowSet<Row> rows) {
        this.rows = rows;
    }

    /** The next pass on {@code conn}: at most {@code batchSize} rows and, past the first, {@code batchBytes} bytes. */
    static RelayRows next(SqlConnection conn, int batchSize, int batchBytes, HandedRows handed) {
        RelayRows pass = new RelayRows(OutboxRelay.sql(conn.preparedQuery(UNPUBLISHED)
                .execute(Tuple.of(batchSize, batchBytes, handed.ids()))));
        List<Long> unread = new ArrayList<>();
        Long last = null;
        for (Row row : pass.rows) {
            last = row.getLong("id");
            if (batch(row) && row.getValue("records") == null) {
                List<OutboxRecords.KeyValue> records = handed.records(last,
                        row.getOffsetDateTime("created_at").toInstant(), row.getLong("version"),
                        row.getInteger("bytes"));
                if (records != null) {
                    pass.taken.put(last, records);
                } else {
                    unread.add(last);
                }
            }
        }
        if (!unread.isEmpty()) {
            OutboxRelay.sql(conn.preparedQuery(RECORDS_OF).execute(Tuple.of(unread.toArray(new Long[0]))))
                    .forEach(row -> pass.read.put(row.getLong("id"), row.getBuffer("records").getBytes()));
        }
        handed.readThrough(last);
        return pass;
    }

    RowSet<Row> rows() {
        return rows;
    }

    /** Whether the row holds records (a projection's outputs, re-sent records, or messages of a type), else one. */
    static boolean batch(Row row) {
        return row.getBoolean("batch");
    }

    /** A batch row's records as stored, when they were read (for an unreadable row's parking: else none). */
    byte[] stored(Row row) {
        return row.getValue("records") != null ? row.getBuffer("records").getBytes() : read.get(row.getLong("id"));
    }

    /**
     * The row's records with the trace context it was written in: its message (topic, key and payload as UTF-8, its
     * outbox id in a header) or its batch of records for one topic (key and value as written; messages of a type with
     * their place in the row in the header too), added to
     * {@code records}, and where each came from to {@code origins}.
     *
     * @throws IllegalArgumentException when the row's records cannot be read (nothing is added then)
     */
    void records(Row row, List<ProducerRecord<byte[], byte[]>> all, List<RelayParking.Origin> origins) {
        String topic = row.getString("topic");
        long id = row.getLong("id");
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        if (batch(row)) {
            String type = row.getString("event_type");
            boolean supersedes = Outbox.RECORDS.equals(type);
            boolean messages = !supersedes && !Outbox.RESENT.equals(type); // commands: no entity's state
            byte[] stored = stored(row);
            List<OutboxRecords.KeyValue> decoded = stored != null ? OutboxRecords.decode(stored) : taken.get(id);
            if (decoded == null) { // deleted by hand between the pass's two reads: nothing to send
                return;
            }
            for (int i = 0; i < decoded.size(); i++) {
                OutboxRecords.KeyValue record = decoded.get(i);
                ProducerRecord<byte[], byte[]> sent = new ProducerRecord<>(topic, record.key(), record.value());
                if (messages) {
                    sent.headers().add(OUTBOX_ID, (id + ":" + i).getBytes(StandardCharsets.US_ASCII));
                }
                records.add(sent);
                // whose state it carries: an output's entity (null: its key's), a re-sent record's as parked (none
                // for a command), none for a message
                origins.add(new RelayParking.Origin(id, i, messages ? null : !supersedes ? record.entity()
                        : record.entity() != null ? record.entity() : record.key(), supersedes));
            }
        } else {
            String key = row.getString("message_key");
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic,
                    key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                    row.getString("payload").getBytes(StandardCharsets.UTF_8));
            record.headers().add(OUTBOX_ID, Long.toString(id).getBytes(StandardCharsets.US_ASCII));
            records.add(record);
            origins.add(new RelayParking.Origin(id, 0, null, false)); // a command or event: no entity's state
        }
        // the trace context of what wrote the row, so that its consumer continues that trace
        String traceparent = row.getString("traceparent");
        if (traceparent != null) {
            String tracestate = row.getString("tracestate");
            for (ProducerRecord<byte[], byte[]> record : records) {
                record.headers().add(TraceHeaders.TRACEPARENT, traceparent.getBytes(StandardCharsets.US_ASCII));
                if (tracestate != null) {
                    record.headers().add(TraceHeaders.TRACESTATE, tracestate.getBytes(StandardCharsets.US_ASCII));
                }
            }
        }
        all.addAll(records);
    }
}
