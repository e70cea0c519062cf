package io.readside.projection.replay;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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

    /**
     * Why a rebuild whose tables would lack {@code lost} rows (of {@code entityTable}, deleted from {@code topic} by
     * retention) may not start; empty when it may. A read model rebuilt alone, derived from {@code derivedFrom},
     * never accepts the loss: the table it is derived from keeps those rows, and every later change would be folded
     * against rows it never counted.
     */
    static Optional<String> refusal(String topic, String readModel, String entityTable, Optional<String> derivedFrom,
            long lost, Map<Integer, Long> logStarts, boolean acceptHistoryLoss) {
        if (lost == 0 || (acceptHistoryLoss && derivedFrom.isEmpty())) {
            return Optional.empty();
        }
        String lacking = "topic " + topic + " no longer holds the versions of " + lost + " rows of " + entityTable
                + " (log start offsets " + new TreeMap<>(logStarts) + "): ";
        return Optional.of(derivedFrom.map(whole -> lacking + readModel + " rebuilt alone would lack them while "
                + entityTable + " keeps them. Rebuild " + whole + " instead (with every read model derived from it), "
                + "accepting the loss there")
                .orElse(lacking + "the rebuilt tables would lack them. Repeat with accept-history-loss=true to "
                        + "rebuild anyway"));
    }

    /** Each partition's log start offset (partition -> offset; each broker call at most 10 s). */
    Map<Integer, Long> logStarts(String topic) {
        try (KafkaConsumer<byte[], byte[]> consumer = ReplayConsumer.create(bootstrapServers)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            Map<Integer, Long> starts = new TreeMap<>();
            consumer.beginningOffsets(partitions, Duration.ofSeconds(10))
                    .forEach((partition, offset) -> starts.put(partition.partition(), offset));
            return starts;
        }
    }

    /**
     * Rows of the model's entity table ({@link Replayable#entityTable}) whose version lies before its partition's
     * {@code logStarts} entry; 0 at once when every partition still starts at offset 0.
     */
    long rowsBeforeLogStart(Replayable<?> model, Map<Integer, Long> logStarts) {
        if (logStarts.values().stream().allMatch(start -> start == 0)) {
            return 0;
        }
        return pool.preparedQuery(ROWS_BEFORE_LOG_START.formatted(model.entityTable()))
                .execute(Tuple.of(logStarts.keySet().toArray(new Integer[0]), logStarts.values().toArray(new Long[0])))
                .await().atMost(Duration.ofSeconds(30)).iterator().next().getLong(0);
    }
}
