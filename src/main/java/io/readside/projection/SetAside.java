package io.readside.projection;

import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import io.smallrye.mutiny.Uni;
import io.vertx.core.buffer.Buffer;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Keeps the bytes of a record whose full copy did not reach the dead-letter topic ({@link DeadLetters.Letter}) in
 * table {@code set_aside_records}, in the transaction that claims the record's position: the partition moves on
 * and nothing is lost. An operator finds them with {@code SELECT * FROM set_aside_records}.
 */
public final class SetAside {

    static final String INSERT = """
            INSERT INTO set_aside_records (topic, kafka_partition, kafka_offset, consumer_group, reason, cause,
                                           dead_letter, delivery_error, record_key, record_value, header_keys,
                                           header_values, record_timestamp)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            ON CONFLICT DO NOTHING""";

    private SetAside() {
    }

    /** Stores the record in {@code conn}'s transaction; nothing for a letter that carried the copy. */
    public static Uni<Void> store(SqlConnection conn, String group, ConsumerRecord<?, ?> record,
            InvalidRecordException e, DeadLetters.Letter letter) {
        if (!letter.setAside()) {
            return Uni.createFrom().voidItem();
        }
        Header[] headers = record.headers().toArray();
        Buffer[] keys = new Buffer[headers.length];
        Buffer[] values = new Buffer[headers.length];
        for (int i = 0; i < headers.length; i++) {
            keys[i] = Buffer.buffer(headers[i].key());
            values[i] = headers[i].value() == null ? null : Buffer.buffer(headers[i].value());
        }
        byte[] key = DeadLetters.bytes(record.key());
        byte[] value = DeadLetters.bytes(record.value());
        return conn.preparedQuery(INSERT).execute(Tuple.from(new Object[] {
                record.topic(), record.partition(), record.offset(), group, e.reason(), e.getMessage(),
                letter.delivery() == DeadLetters.Delivery.STUB ? "stub" : "none", letter.error(),
                key == null ? null : Buffer.buffer(key), value == null ? null : Buffer.buffer(value), keys, values,
                record.timestamp() })).replaceWithVoid();
    }

    /** Invalid records whose dead letter did not carry them keep their bytes, in the batch's transaction. */
    static Uni<Void> storeAll(SqlConnection conn, String group,
            Map<ConsumerRecord<byte[], byte[]>, InvalidRecordException> invalid, Map<String, DeadLetters.Letter> letters) {
        return InTurn.each(invalid.entrySet(), entry -> store(conn, group, entry.getKey(), entry.getValue(),
                letters.get(ProjectionMetrics.where(entry.getKey()))));
    }
}
