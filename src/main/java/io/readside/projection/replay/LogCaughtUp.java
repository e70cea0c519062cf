package io.readside.projection.replay;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.runtime.StartupEvent;
import io.readside.projection.Changelog;
import io.readside.projection.lag.LagMonitor;
import io.readside.projection.lag.LagSnapshot;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Waits until every record written to a topic before now is applied, so that a question about the applied versions
 * ({@link Changelog#newerVersionApplied}) is asked of a read model that holds them all: a newer version still in the
 * log (a tombstone behind a lag, a fenced topic, an outage) would otherwise be applied after the redriven older one,
 * which would then win. A partition counts as applied once its stored position reaches its last stable offset read
 * now, or once a lag measurement taken after now saw it at lag 0 (only transaction markers or aborted records
 * remained). Blocks; bounded by {@code readside.dead-letters.redrive-waits-for-log}.
 */
@ApplicationScoped
public class LogCaughtUp {

    /** The bounds of how long a redrive may wait for the topic to be applied before it answers 503. */
    static final Duration AT_LEAST = Duration.ofMillis(100);
    static final Duration AT_MOST = Duration.ofMinutes(10);
    private static final Duration POLL = Duration.ofMillis(100);

    static final String POSITIONS = """
            SELECT kafka_partition, next_offset FROM projection_positions WHERE consumer_group = $1 AND topic = $2""";

    @Inject
    Pool pool;
    @Inject
    LagMonitor lag;
    /**
     * How long a redrive waits for the topic to be applied before it answers 503; at least two lag measurements
     * ({@code readside.lag.interval}), since a partition ending in a transaction marker counts as applied only once a
     * measurement taken after the request saw it at lag 0.
     */
    @ConfigProperty(name = "readside.dead-letters.redrive-waits-for-log", defaultValue = "15s")
    Duration configured;

    void checkBounds(@Observes StartupEvent event) {
        within(configured, lag.interval());
    }

    /** The configured wait, or two lag measurements when that is longer. */
    Duration within() {
        return within(configured, lag.interval());
    }

    /**
     * {@code configured} (100ms..10m, anything else stops the start), or two lag measurements when longer, never more
     * than 10m whatever the lag interval.
     */
    static Duration within(Duration configured, Duration lagInterval) {
        if (configured.compareTo(AT_LEAST) < 0 || configured.compareTo(AT_MOST) > 0) {
            throw new IllegalArgumentException("readside.dead-letters.redrive-waits-for-log=" + configured
                    + " is outside 100ms..10m");
        }
        if (lagInterval.compareTo(AT_MOST.dividedBy(2)) >= 0) {
            return AT_MOST;
        }
        Duration twoMeasurements = lagInterval.multipliedBy(2);
        return configured.compareTo(twoMeasurements) < 0 ? twoMeasurements : configured;
    }

    /** The topic's partitions still behind past the wait, or what they are could not be read. */
    public static final class NotCaughtUpException extends RuntimeException {
        NotCaughtUpException(String topic, List<TopicPartition> behind, Duration waited) {
            super("the records written to " + topic + " before this request are not all applied yet (" + behind.size()
                    + " partitions behind after " + waited.toMillis() + " ms, the first " + behind.get(0)
                    + "): whether a dead letter is older than its entity can only be judged once they are; "
                    + "see /lag and /status, and try again", null, false, false);
        }

        NotCaughtUpException(String topic, RuntimeException cause) {
            super("whether the records written to " + topic + " before this request are applied could not be read ("
                    + cause.getClass().getSimpleName() + "); try again", cause, false, false);
        }
    }

    /**
     * Returns once every partition of {@code topic} is applied up to its last stable offset as {@code consumer} (a
     * read_committed consumer) reads it now.
     *
     * @throws NotCaughtUpException when some are not within the wait
     */
    void await(Changelog<?> changelog, KafkaConsumer<byte[], byte[]> consumer, String topic) {
        Instant asked = Instant.now();
        List<TopicPartition> partitions;
        Map<TopicPartition, Long> ends;
        try {
            partitions = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            ends = consumer.endOffsets(partitions);
        } catch (RuntimeException e) { // the broker did not answer in time
            throw new NotCaughtUpException(topic, e);
        }
        Duration within = within();
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            Map<Integer, Long> stored;
            try {
                stored = positions(changelog.group(), topic);
            } catch (RuntimeException e) { // PostgreSQL down or slow
                throw new NotCaughtUpException(topic, e);
            }
            LagSnapshot measured = lag.latest();
            List<TopicPartition> behind = partitions.stream()
                    .filter(p -> stored.getOrDefault(p.partition(), 0L) < ends.getOrDefault(p, 0L)
                            && !caughtUpSince(measured, asked, changelog.group(), p, ends.getOrDefault(p, 0L)))
                    .toList();
            if (behind.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new NotCaughtUpException(topic, behind, within);
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new NotCaughtUpException(topic, new IllegalStateException("interrupted", e));
            }
        }
    }

    /**
     * A measurement since the request saw the partition at lag 0 up to at least the end read then: what lies between
     * the stored position and that end is nothing to apply (transaction markers, aborted records).
     */
    static boolean caughtUpSince(LagSnapshot measured, Instant asked, String group, TopicPartition partition,
            long end) {
        return measured.measuredAt() != null && measured.measuredAt().isAfter(asked) && measured.partitions().stream()
                .anyMatch(p -> p.group().equals(group) && p.topic().equals(partition.topic())
                        && p.partition() == partition.partition() && p.endOffset() >= end && p.lagRecords() == 0);
    }

    private Map<Integer, Long> positions(String group, String topic) {
        Map<Integer, Long> stored = new HashMap<>();
        for (Row row : pool.preparedQuery(POSITIONS).execute(Tuple.of(group, topic)).await().atMost(within())) {
            stored.put(row.getInteger("kafka_partition"), row.getLong("next_offset"));
        }
        return stored;
    }
}
