package io.readside.projection.lag;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Finds, for a partition's unapplied range, the first record a {@code read_committed} consumer is given: the record
 * lag counts from (its offset) and ages by (its timestamp). A group-less consumer of its own
 * ({@code readside-lag-peeker}, created on first use, at most 100 records and 64 KiB per partition a poll) that never
 * commits. Used by the lag monitor's thread only; owned and closed by {@link LagMonitor}.
 */
final class FirstApplicableRecords {

    /** The first record a read_committed consumer gets at or after an offset; {@link #NONE}: none before the LSO. */
    record FirstApplicable(long offset, long timestamp) {
        static final FirstApplicable NONE = new FirstApplicable(-1, -1);
    }

    private final String bootstrapServers;
    private KafkaConsumer<byte[], byte[]> peeker;

    FirstApplicableRecords(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
    }

    /**
     * For each partition ({@code applied, end}), the first record at or after {@code applied} that a read_committed
     * consumer is given (a compacted or deleted one, a transaction marker, an aborted record are skipped), or
     * {@link FirstApplicable#NONE} when its position reaches {@code end} without one. Absent: not found in time
     * (about 2 s for all of them).
     */
    Map<TopicPartition, FirstApplicable> firstApplicable(Map<TopicPartition, long[]> ranges) {
        Map<TopicPartition, FirstApplicable> first = new HashMap<>();
        if (ranges.isEmpty()) {
            return first;
        }
        if (peeker == null) {
            peeker = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.CLIENT_ID_CONFIG, "readside-lag-peeker",
                    ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "100",
                    ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "65536"),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer());
        }
        peeker.assign(ranges.keySet());
        ranges.forEach((tp, range) -> peeker.seek(tp, range[0]));
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (first.size() < ranges.size() && System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> record : peeker.poll(Duration.ofMillis(200))) {
                TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                first.putIfAbsent(tp, new FirstApplicable(record.offset(), record.timestamp()));
                peeker.pause(List.of(tp));
            }
            for (Map.Entry<TopicPartition, long[]> range : ranges.entrySet()) {
                TopicPartition tp = range.getKey();
                if (!first.containsKey(tp) && peeker.position(tp, Duration.ofSeconds(1)) >= range.getValue()[1]) {
                    first.put(tp, FirstApplicable.NONE);
                    peeker.pause(List.of(tp));
                }
            }
        }
        peeker.resume(peeker.paused());
        return first;
    }

    /** Closes the consumer, if one was created (waits up to 2 s). */
    void close() {
        if (peeker != null) {
            peeker.close(Duration.ofSeconds(2));
        }
    }
}
