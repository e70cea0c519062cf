package io.readside.projection;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

import org.eclipse.microprofile.config.Config;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The positions of a topic's new log once an operator accepted it ({@link LogGuard#accept}): where each group's
 * consumers are, Kafka's committed offsets, since that is where they resume. A partition without a committed offset
 * (a recreated topic: the broker dropped the old one's) gets no row, and its consumer starts at the log start. So no
 * position row is missing where Kafka has an offset, which {@link PositionSeeker} would otherwise take for a database
 * that lost its rows.
 */
final class NewLogPositions {

    /** The new log's positions: where the group's consumers are (Kafka's committed offsets), as they resume there. */
    static final String CONSUMERS_ARE_AT = """
            INSERT INTO projection_positions (consumer_group, topic, kafka_partition, next_offset, updated_at)
            SELECT $1, $2, r.kafka_partition, r.next_offset, now()
              FROM unnest($3::int[], $4::bigint[]) AS r(kafka_partition, next_offset)""";

    private NewLogPositions() {
    }

    /** Each group's committed offsets on the topic, asked of the broker (blocks). */
    static Map<String, Map<Integer, Long>> consumersAt(TopicLogs logs, Config config, String topic) {
        Map<String, Map<Integer, Long>> at = new TreeMap<>();
        for (ProjectedChannels.Consumed consumed : ProjectedChannels.of(config)) {
            if (consumed.topic().equals(topic)) {
                try {
                    at.put(consumed.group(), logs.committed(consumed.group(), topic));
                } catch (ExecutionException | TimeoutException e) {
                    throw new IllegalStateException("the broker did not say where the consumers of " + topic
                            + " are (" + e + "); accept again once it answers", e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
        }
        return at;
    }

    static Uni<Void> keep(SqlConnection conn, String topic, Map<String, Map<Integer, Long>> at) {
        Uni<Void> kept = Uni.createFrom().voidItem();
        for (Map.Entry<String, Map<Integer, Long>> group : at.entrySet()) {
            if (!group.getValue().isEmpty()) {
                kept = kept.chain(() -> conn.preparedQuery(CONSUMERS_ARE_AT).execute(Tuple.of(group.getKey(), topic,
                        group.getValue().keySet().toArray(new Integer[0]),
                        group.getValue().values().toArray(new Long[0]))).replaceWithVoid());
            }
        }
        return kept;
    }
}
