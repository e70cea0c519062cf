package io.readside.projection;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * What {@link PositionGaps} asks the broker: log start offsets (an Admin client) and a gap's records (a group-less
 * {@code read_committed} consumer that never commits), both {@code readside-position-gaps}, created on first use.
 * Used by the one broker-call thread of {@link PositionGaps} only; blocks.
 */
class GapBroker {

    /**
     * A chunk ends once its records hold this many bytes (at least one record), whatever their number: a gap of
     * megabyte records is applied a few at a time, never gathered in the heap at once.
     */
    static final long CHUNK_BYTES = 8L * 1024 * 1024;

    private final String bootstrapServers;
    private final Duration callTimeout;
    private final int chunk;
    private final BrokerAdmin admin;
    private KafkaConsumer<byte[], byte[]> reader;

    GapBroker(String bootstrapServers, Duration callTimeout, int chunk) {
        this.bootstrapServers = bootstrapServers;
        this.callTimeout = callTimeout;
        this.chunk = chunk;
        this.admin = new BrokerAdmin(bootstrapServers, "readside-position-gaps", callTimeout);
    }

    Map<TopicPartition, Long> logStarts(List<TopicPartition> partitions) {
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        partitions.forEach(partition -> earliest.put(partition, OffsetSpec.earliest()));
        try {
            Map<TopicPartition, Long> starts = new HashMap<>();
            admin.get().listOffsets(earliest).all().get(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .forEach((partition, info) -> starts.put(partition, info.offset()));
            return starts;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (Exception e) {
            throw new IllegalStateException("log start offsets of " + partitions + " unavailable: " + e, e);
        }
    }

    List<ConsumerRecord<byte[], byte[]>> read(TopicPartition partition, long from, long until) {
        KafkaConsumer<byte[], byte[]> consumer = reader();
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        consumer.assign(List.of(partition));
        consumer.seek(partition, from);
        long deadline = System.nanoTime() + callTimeout.toNanos();
        long bytes = 0;
        while (records.size() < chunk && bytes < CHUNK_BYTES && consumer.position(partition, callTimeout) < until) {
            if (System.nanoTime() > deadline) {
                if (!records.isEmpty()) {
                    return records; // what came in time; the next chunk goes on from there
                }
                throw new IllegalStateException(partition + ": records " + from + " to " + until
                        + " not read within " + callTimeout.toSeconds() + " s");
            }
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                if (record.offset() < until && records.size() < chunk && bytes < CHUNK_BYTES) {
                    records.add(record);
                    bytes += Math.max(0, record.serializedKeySize()) + Math.max(0, record.serializedValueSize());
                }
            }
        }
        return records;
    }

    private KafkaConsumer<byte[], byte[]> reader() {
        if (reader == null) {
            reader = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none",
                    ConsumerConfig.CLIENT_ID_CONFIG, "readside-position-gaps",
                    ConsumerConfig.MAX_POLL_RECORDS_CONFIG, String.valueOf(chunk),
                    ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "50",
                    // what one poll may bring, beside the chunk's own bound
                    ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(1024 * 1024),
                    ConsumerConfig.FETCH_MAX_BYTES_CONFIG, String.valueOf(CHUNK_BYTES)),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer());
        }
        return reader;
    }

    void close() {
        admin.close();
        if (reader != null) {
            reader.close(Duration.ofSeconds(2));
        }
    }
}
