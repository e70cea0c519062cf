package io.readside.projection;

import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * On partition assignment, checks Kafka's committed offset against the position PostgreSQL stored with the read
 * model (the truth: it commits with the change; the Kafka offset only follows it):
 * <ul>
 * <li>no committed offset (a new group, or offsets expired after {@code offsets.retention.minutes}): resume at the
 * stored position instead of re-reading everything or, with {@code auto.offset.reset=latest}, skipping records;</li>
 * <li>committed offset ahead of the stored position (a database restored from a backup, offsets moved by hand):
 * resume at the stored position, so the read model gets every record it lacks;</li>
 * <li>committed offset behind or at it (a crash between the database commit and the offset commit): keep it. The
 * records in between are recognised as applied and change nothing, and a projector that publishes after its
 * commit publishes them again: the crash may have come before the broker had them.</li>
 * </ul>
 * On revocation, the poll being applied is given a bounded time to commit ({@link #onPartitionsRevoked}).
 * A partition PostgreSQL has no position for starts as Kafka says when Kafka has no committed offset either (a new
 * partition, a new group). When Kafka has one, records were applied that the database no longer knows of (restored
 * from a backup taken before the partition had a position, or emptied): the consumer goes back to the log start and
 * the partition is unverified, like below; what retention already deleted is counted as deleted before it was applied.
 * (After an operator accepted a new log, whose positions are forgotten, this is also where a recreated topic's stale
 * committed offsets would otherwise have its consumer start.) If PostgreSQL or the broker cannot answer, the
 * consumer starts at Kafka's committed offset but it is not trusted: the partitions are unverified, and their first
 * batch is compared with the stored position in its transaction; records between are read from the broker and
 * applied first ({@link PositionGaps}).
 */
@ApplicationScoped
@Identifier(PositionSeeker.NAME)
public class PositionSeeker implements KafkaConsumerRebalanceListener {

    /** {@code mp.messaging.incoming.<channel>.consumer-rebalance-listener.name} of every projecting channel */
    public static final String NAME = "readside-positions";

    private static final Logger LOG = Logger.getLogger(PositionSeeker.class);
    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(5);
    static final Duration REVOKE_WITHIN = Duration.ofSeconds(10);

    static final String POSITIONS = """
            SELECT topic, kafka_partition, next_offset FROM projection_positions
             WHERE consumer_group = $1 AND topic = ANY($2)""";

    @Inject
    Pool pool;
    @Inject
    LogGuard guard;
    @Inject
    Projector engine;
    @Inject
    PositionGaps gaps;

    /** Per Kafka consumer (by identity), since when (nanoTime) its polling thread runs one of these listeners. */
    private final Map<Consumer<?, ?>, Long> inListener = new ConcurrentHashMap<>();

    /**
     * How long the consumer's polling thread has been in one of these listeners (which wait for the poll in flight,
     * the database and the broker, each within a bound); empty when it is not in one.
     */
    public Optional<Duration> inListenerFor(Consumer<?, ?> consumer) {
        Long since = inListener.get(consumer);
        return since == null ? Optional.empty() : Optional.of(Duration.ofNanos(System.nanoTime() - since));
    }

    /**
     * Runs on the consumer's polling thread before the partitions move: the poll being applied is given a bounded
     * time to commit, so that this replica's work on them ends before the new owner's begins. Past the bound it is
     * left to finish or fail on its own: its transaction holds the partitions' position rows, so the new owner's first
     * transaction waits for it and then finds those records applied (their outputs are in the outbox, committed with
     * them, and published in commit order).
     */
    @Override
    public void onPartitionsRevoked(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        inListener(consumer, () -> revoked(consumer, partitions));
    }

    /** Runs {@code listener}, known meanwhile as the consumer's rebalance listener ({@link #inListenerFor}). */
    private void inListener(Consumer<?, ?> consumer, Runnable listener) {
        inListener.put(consumer, System.nanoTime());
        try {
            listener.run();
        } finally {
            inListener.remove(consumer);
        }
    }

    private void revoked(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return;
        }
        long start = System.nanoTime();
        boolean finished = engine.awaitInFlight(partitions, REVOKE_WITHIN);
        gaps.revoked(consumer.groupMetadata().groupId(), partitions);
        LOG.infof("group %s: %s revoked; the polls in flight on them %s (%d ms)", consumer.groupMetadata().groupId(),
                partitions, finished ? "are committed" : "did not commit within " + REVOKE_WITHIN.toSeconds()
                        + " s and are left to their transactions", (System.nanoTime() - start) / 1_000_000);
    }

    /** Runs on the consumer's polling thread, which may block. */
    @Override
    public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        inListener(consumer, () -> assigned(consumer, partitions));
    }

    private void assigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return;
        }
        String group = consumer.groupMetadata().groupId();
        // before any record of the assignment is applied: is this the log the positions came from?
        partitions.stream().map(TopicPartition::topic).distinct().forEach(guard::verify);
        Map<TopicPartition, Long> stored;
        Map<TopicPartition, OffsetAndMetadata> committed;
        try {
            stored = positions(group, partitions);
            committed = consumer.committed(Set.copyOf(partitions), QUERY_TIMEOUT);
        } catch (RuntimeException e) {
            gaps.unverified(group, partitions);
            LOG.warnf("group %s: stored positions unavailable (%s); %s start at the committed offsets, unverified: "
                    + "their first batch is checked against the stored positions", group, e.toString(), partitions);
            return;
        }
        gaps.placed(group, partitions, stored);
        List<TopicPartition> forgotten = partitions.stream().filter(partition -> !stored.containsKey(partition)
                && committed.get(partition) != null && committed.get(partition).offset() > 0).toList();
        if (!forgotten.isEmpty()) { // read again from the log start at once, not when a new record comes
            gaps.unverified(group, forgotten);
            consumer.seekToBeginning(forgotten);
            LOG.warnf("group %s: %s have committed offsets but no stored position (a database restored from before "
                    + "they had one, or emptied): applied again from their log start", group, forgotten);
        }
        Map<TopicPartition, Long> sought = new TreeMap<>(Comparator.comparing(TopicPartition::toString));
        for (TopicPartition partition : partitions) {
            Long next = stored.get(partition);
            OffsetAndMetadata kafka = committed.get(partition);
            if (next != null && (kafka == null || kafka.offset() > next)) {
                consumer.seek(partition, next);
                sought.put(partition, next);
            }
        }
        LOG.infof("group %s assigned %s; stored positions %s, committed offsets %s; resuming at the stored position "
                + "for %s", group, partitions, stored, committed, sought);
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
