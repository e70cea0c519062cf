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
import org.apache.kafka.common.serialization.StringSerializer;

/** A plain Kafka producer, as the guide's producer is: JSON text values, string keys, each send acknowledged. */
public final class TestProducer implements AutoCloseable {

    private final KafkaProducer<String, byte[]> producer;

    public TestProducer(String bootstrapServers) {
        producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
    }

    public RecordMetadata send(String topic, String key, String json) {
        return send(topic, key, json == null ? null : json.getBytes(StandardCharsets.UTF_8));
    }

    /** Sends without waiting; records of one key keep their order (the producer is idempotent). */
    public Future<RecordMetadata> sendAsync(String topic, String key, String json) {
        return producer.send(new ProducerRecord<>(topic, key, json.getBytes(StandardCharsets.UTF_8)));
    }

    /** With headers (a {@code traceparent}, say), without waiting. */
    public Future<RecordMetadata> sendAsync(String topic, String key, String json, Iterable<Header> headers) {
        return producer.send(new ProducerRecord<>(topic, null, key, json.getBytes(StandardCharsets.UTF_8), headers));
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
        return await(producer.send(new ProducerRecord<>(topic, partition, key, json.getBytes(StandardCharsets.UTF_8))));
    }

    public RecordMetadata send(String topic, String key, byte[] value) {
        return await(producer.send(new ProducerRecord<>(topic, key, value)));
    }

    @Override
    public void close() {
        producer.close();
    }
}
