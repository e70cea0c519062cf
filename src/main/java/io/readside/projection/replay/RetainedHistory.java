package io.readside.projection.replay;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * What a rebuild can still replay: each partition's log start offset (the first offset retention kept), and how
 * many rows of the live read model hold a version from before it, which a rebuild would lose. Asked once when a
 * rebuild is requested ({@link Rebuilds#start}).
 */
@ApplicationScoped
class RetainedHistory {

    /**
     * Rows of a read model's entity table whose applied version lies before its partition's log start offset: the
     * topic no longer holds it (retention deleted it), so a rebuild would not bring the row back.
     */
    static final String ROWS_BEFORE_LOG_START = """
            SELECT count(*) FROM %s t
              JOIN unnest($1::int[], $2::bigint[]) AS s(kafka_partition, log_start)
                ON t.source_partition = s.kafka_partition AND t.source_offset < s.log_start""";

    @Inject
    Pool pool;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    /** Each partition's log start offset (partition -> offset; each broker call at most 10 s). */
    Map<Integer, Long> logStarts(String topic) {
        try (KafkaConsumer<byte[], byte[]> consumer = Rebuilds.consumer(bootstrapServers)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            Map<Integer, Long> starts = new TreeMap<>();
            consumer.beginningOffsets(partitions, Duration.ofSeconds(10))
                    .forEach((partition, offset) -> starts.put(partition.partition(), offset));
            return starts;
        }
    }

    /**
     * Rows of the model's first table ({@link Replayable#tables}) whose version lies before its partition's
     * {@code logStarts} entry; 0 at once when every partition still starts at offset 0.
     */
    long rowsBeforeLogStart(Replayable<?> model, Map<Integer, Long> logStarts) {
        if (logStarts.values().stream().allMatch(start -> start == 0)) {
            return 0;
        }
        return pool.preparedQuery(ROWS_BEFORE_LOG_START.formatted(model.tables().get(0)))
                .execute(Tuple.of(logStarts.keySet().toArray(new Integer[0]), logStarts.values().toArray(new Long[0])))
                .await().atMost(Duration.ofSeconds(30)).iterator().next().getLong(0);
    }
}
