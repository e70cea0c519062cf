package io.readside.projection;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * On partition assignment, the consumer resumes where PostgreSQL says the read model got to, not where Kafka's
 * committed offset says: the position commits with the change, the Kafka offset only after it (and may be behind
 * after a crash, or gone after {@code offsets.retention.minutes}). A partition PostgreSQL has no position for starts
 * from the committed offset or {@code auto.offset.reset}. If PostgreSQL cannot answer, the committed offset is used:
 * it is never ahead of the stored position, so at worst records are read again and recognised as applied.
 */
@ApplicationScoped
@Identifier(PositionSeeker.NAME)
public class PositionSeeker implements KafkaConsumerRebalanceListener {

    /** {@code mp.messaging.incoming.<channel>.consumer-rebalance-listener.name} of every projecting channel */
    public static final String NAME = "readside-positions";

    private static final Logger LOG = Logger.getLogger(PositionSeeker.class);
    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(5);

    static final String POSITIONS = """
            SELECT topic, kafka_partition, next_offset FROM projection_positions
             WHERE consumer_group = $1 AND topic = ANY($2)""";

    @Inject
    Pool pool;

    /** Runs on the consumer's polling thread, which may block. */
    @Override
    public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return;
        }
        String group = consumer.groupMetadata().groupId();
        Map<TopicPartition, Long> stored;
        try {
            stored = positions(group, partitions);
        } catch (RuntimeException e) {
            LOG.warnf("group %s: stored positions unavailable (%s); %s resume from the committed offsets", group,
                    e.toString(), partitions);
            return;
        }
        for (TopicPartition partition : partitions) {
            Long next = stored.get(partition);
            if (next != null) {
                consumer.seek(partition, next);
            }
        }
        LOG.infof("group %s assigned %s; resuming at the stored positions %s", group, partitions, stored);
    }

    Map<TopicPartition, Long> positions(String group, Collection<TopicPartition> partitions) {
        String[] topics = partitions.stream().map(TopicPartition::topic).distinct().toArray(String[]::new);
        Map<TopicPartition, Long> stored = new HashMap<>();
        for (Row row : pool.preparedQuery(POSITIONS).execute(Tuple.of(group, topics)).await().atMost(QUERY_TIMEOUT)) {
            TopicPartition partition = new TopicPartition(row.getString("topic"), row.getInteger("kafka_partition"));
            if (partitions.contains(partition)) {
                stored.put(partition, row.getLong("next_offset"));
            }
        }
        return stored;
    }
}
