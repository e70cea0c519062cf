package io.readside.testing;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

import io.readside.projection.outbox.OutboxRecords;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;

/**
 * The messages of one type the outbox holds, per key: a row of one message ({@code Outbox.add}) counts its key, a row
 * of several ({@code Outbox.addAll}, its records) each of theirs.
 */
public final class OutboxMessages {

    private final Map<String, Long> byKey = new TreeMap<>();

    /** The query for the rows of a topic and type (test constants only: they are quoted as they are). */
    public static String rowsOf(String topic, String type) {
        return "SELECT message_key, records FROM outbox WHERE topic = '" + topic + "' AND event_type = '" + type + "'";
    }

    /** Over the test's pool. */
    public static Map<String, Long> byKey(Pool pool, String topic, String type) {
        OutboxMessages messages = new OutboxMessages();
        for (Row row : pool.query(rowsOf(topic, type)).execute().await().indefinitely()) {
            messages.add(row.getString("message_key"),
                    row.getBuffer("records") == null ? null : row.getBuffer("records").getBytes());
        }
        return messages.byKey();
    }

    /** One row of {@link #rowsOf}. */
    public void add(String messageKey, byte[] records) {
        if (records == null) {
            byKey.merge(String.valueOf(messageKey), 1L, Long::sum);
            return;
        }
        for (OutboxRecords.KeyValue record : OutboxRecords.decode(records)) {
            String key = record.key() == null ? "null" : new String(record.key(), StandardCharsets.UTF_8);
            byKey.merge(key, 1L, Long::sum);
        }
    }

    public Map<String, Long> byKey() {
        return byKey;
    }
}
