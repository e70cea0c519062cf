package io.readside.testing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.reactive.messaging.Metadata;

import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.IncomingKafkaRecord;
import io.smallrye.reactive.messaging.kafka.IncomingKafkaRecordBatch;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import io.smallrye.reactive.messaging.kafka.commit.KafkaCommitHandler;
import io.smallrye.reactive.messaging.kafka.fault.KafkaFailureHandler;

/**
 * A poll as the Kafka connector hands it to a batch channel's method, for a test to apply without a broker (the
 * in-memory connector cannot carry one: it wraps each message). The offsets it acknowledges are recorded.
 */
public final class Polls {

    private Polls() {
    }

    /** The records, by partition in the order given; each acknowledged offset is added to {@code acknowledged}. */
    public static KafkaRecordBatch<byte[], byte[]> of(List<ConsumerRecord<byte[], byte[]>> records, String channel,
            List<Long> acknowledged) {
        Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> byPartition = new LinkedHashMap<>();
        records.forEach(record -> byPartition
                .computeIfAbsent(new TopicPartition(record.topic(), record.partition()), p -> new ArrayList<>())
                .add(record));
        KafkaCommitHandler commits = new KafkaCommitHandler() {
            @Override
            public <K, V> Uni<Void> handle(IncomingKafkaRecord<K, V> record) {
                acknowledged.add(record.getOffset());
                return Uni.createFrom().voidItem();
            }
        };
        KafkaFailureHandler failures = new KafkaFailureHandler() {
            @Override
            public <K, V> Uni<Void> handle(IncomingKafkaRecord<K, V> record, Throwable reason, Metadata metadata) {
                return Uni.createFrom().failure(reason);
            }
        };
        return new IncomingKafkaRecordBatch<>(new ConsumerRecords<>(byPartition), channel, -1, commits, failures, false,
                false);
    }
}
