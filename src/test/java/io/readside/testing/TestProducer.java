package io.readside.testing;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A plain Kafka producer, as the guide's producer is: JSON text values, string keys, each send acknowledged. Every
 * record sent to a topic with a payload schema ({@link Contracts}) must be valid against it, so the tests exercise
 * the contract they document; a test that sends an invalid record on purpose (a hostile or poison record, a dead
 * letter to redrive) says so with {@link #sendInvalidOnPurpose}.
 */
public final class TestProducer implements AutoCloseable {

    private final KafkaProducer<byte[], byte[]> producer;

    public TestProducer(String bootstrapServers) {
        producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());
    }

    public RecordMetadata send(String topic, String key, String json) {
        return send(topic, key, bytes(json));
    }

    /** Sends without waiting; records of one key keep their order (the producer is idempotent). */
    public Future<RecordMetadata> sendAsync(String topic, String key, String json) {
        return producer.send(valid(new ProducerRecord<>(topic, bytes(key), bytes(json))));
    }

    /** With headers (a {@code traceparent}, say), without waiting. */
    public Future<RecordMetadata> sendAsync(String topic, String key, String json, Iterable<Header> headers) {
        return producer.send(valid(new ProducerRecord<>(topic, null, bytes(key), bytes(json), headers)));
    }

    public static RecordMetadata await(Future<RecordMetadata> sent) {
        try {
            return sent.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("send failed", e.getCause());
        }
    }

    /** To one partition, waiting for the broker. */
    public RecordMetadata send(String topic, int partition, String key, String json) {
        return send(topic, partition, bytes(key), bytes(json));
    }

    public RecordMetadata send(String topic, String key, byte[] value) {
        return await(producer.send(valid(new ProducerRecord<>(topic, bytes(key), value))));
    }

    public RecordMetadata send(String topic, int partition, byte[] key, byte[] value) {
        return await(producer.send(valid(new ProducerRecord<>(topic, partition, key, value))));
    }

    /**
     * Sends a record that breaks its topic's contract (or that only Readside's parser refuses: a key that is not the
     * id, an event time ahead of the record), unchecked: for the tests of what becomes a dead letter.
     */
    public RecordMetadata sendInvalidOnPurpose(String topic, Integer partition, byte[] key, byte[] value,
            Header... headers) {
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, partition, key, value);
        for (Header header : headers) {
            record.headers().add(header);
        }
        return await(producer.send(record));
    }

    /** With the Kafka timestamp {@code timestamp} (ms), not now: a producer whose clock is behind, unchecked. */
    public RecordMetadata sendStampedOnPurpose(String topic, String key, String value, long timestamp) {
        return await(producer.send(new ProducerRecord<>(topic, null, timestamp, bytes(key), bytes(value))));
    }

    public RecordMetadata sendInvalidOnPurpose(String topic, String key, String value) {
        return sendInvalidOnPurpose(topic, null, bytes(key), bytes(value));
    }

    public RecordMetadata sendInvalidOnPurpose(String topic, String key, byte[] value) {
        return sendInvalidOnPurpose(topic, null, bytes(key), value);
    }

    private static ProducerRecord<byte[], byte[]> valid(ProducerRecord<byte[], byte[]> record) {
        Contracts.requireValid(record.topic(), record.value());
        return record;
    }

    private static byte[] bytes(String text) {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        producer.close();
    }
}
