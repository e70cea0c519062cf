package io.readside.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads a topic back with a plain consumer: every record from the beginning up to the end offsets of now. */
public final class TopicReader {

    private TopicReader() {
    }

    public static List<ConsumerRecord<String, String>> readAll(String bootstrapServers, String topic) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(
                Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"),
                new StringDeserializer(), new StringDeserializer())) {
            return read(consumer, topic, 0, Long.MAX_VALUE);
        }
    }

    /** As {@link #readAll}, with the values as bytes. */
    public static List<ConsumerRecord<String, byte[]>> readAllBytes(String bootstrapServers, String topic) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            return read(consumer, topic, 0, Long.MAX_VALUE);
        }
    }

    /** As {@link #readAll}, keys and values as bytes (as sent), records of up to 2 MiB. */
    public static List<ConsumerRecord<byte[], byte[]>> readAllRaw(String bootstrapServers, String topic) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(
                Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                        ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 2 * 1024 * 1024),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            return read(consumer, topic, 0, Long.MAX_VALUE);
        }
    }

    /** How many partitions the topic has. */
    public static int partitions(String bootstrapServers, String topic) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(
                Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            return consumer.partitionsFor(topic).size();
        }
    }

    /** Each partition's log start offset. */
    public static Map<Integer, Long> logStarts(Admin admin, String topic) throws Exception {
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()
                .forEach(p -> earliest.put(new TopicPartition(topic, p.partition()), OffsetSpec.earliest()));
        Map<Integer, Long> starts = new TreeMap<>();
        admin.listOffsets(earliest).all().get().forEach((tp, info) -> starts.put(tp.partition(), info.offset()));
        return starts;
    }

    /**
     * The records of one partition from {@code from} (inclusive) to {@code to} (exclusive), keys and values as bytes
     * (as the projectors receive them).
     */
    public static List<ConsumerRecord<byte[], byte[]>> readRange(String bootstrapServers, String topic,
            int partition, long from, long to) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(
                Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            TopicPartition tp = new TopicPartition(topic, partition);
            consumer.assign(List.of(tp));
            consumer.seek(tp, from);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (consumer.position(tp) < to && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.offset() < to) {
                        records.add(record);
                    }
                }
            }
            return records;
        }
    }

    private static <K, V> List<ConsumerRecord<K, V>> read(KafkaConsumer<K, V> consumer, String topic,
            long from, long to) {
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(info -> new TopicPartition(topic, info.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
        List<ConsumerRecord<K, V>> records = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))
                && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(records::add);
        }
        return records;
    }
}
