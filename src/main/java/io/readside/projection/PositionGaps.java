package io.readside.projection;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;

/**
 * Offsets between a partition's stored position and the first record the consumer hands over (a <em>gap</em>). Most
 * gaps hold nothing to apply: transaction markers, aborted or compacted records. Two kinds are not trusted:
 * <ul>
 * <li><b>An unverified start</b>: the stored positions could not be read when the partition was assigned (so the
 * consumer started at Kafka's committed offset), or the stored position went back below what this instance last
 * committed for it (a database restored from a backup). Kafka's offset is not trusted over a missing answer: before
 * the batch, the gap is read from the broker ({@code read_committed}, {@link #fetch}) and its records are applied in
 * order ({@link Projector}).</li>
 * <li><b>Records deleted before they were applied</b>: the log start offset (retention, {@code DeleteRecords}) passed
 * the stored position, and the consumer was reset to it. What was deleted cannot come back; it is counted
 * ({@code readside_offsets_deleted_before_applied_total{topic}}, in offsets), logged at ERROR with the gap's size,
 * and alerted on. Every other gap is checked against the log start offset read right after its batch commits, off the
 * projecting thread.</li>
 * </ul>
 * Broker calls run on a thread of their own ({@code readside-position-gaps}), never in a transaction.
 */
@ApplicationScoped
public class PositionGaps {

    private static final Logger LOG = Logger.getLogger(PositionGaps.class);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    /** Records read from the broker and applied per transaction when a gap is filled. */
    static final int FILL_CHUNK = 2_000;

    @Inject
    MeterRegistry registry;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    private final ExecutorService brokerCalls = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "readside-position-gaps");
        thread.setDaemon(true);
        return thread;
    });
    /** partitions whose start this instance could not check against the stored position */
    private final Set<TopicPartition> unverified = ConcurrentHashMap.newKeySet();
    /** per partition, the next offset this instance last committed for it */
    private final Map<TopicPartition, Long> lastCommitted = new ConcurrentHashMap<>();
    /** per partition, the gap {next, first} last found to hold nothing left to apply */
    private final Map<TopicPartition, long[]> checked = new ConcurrentHashMap<>();
    /** gaps committed past, waiting for their log start check */
    private final ConcurrentLinkedQueue<Gap> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    private Admin admin;
    private KafkaConsumer<byte[], byte[]> reader;

    /** A gap of a partition: offsets {@code next} (the stored position) to {@code first} (exclusive). */
    record Gap(TopicPartition partition, long next, long first) {
        long size() {
            return first - next;
        }
    }

    /** The stored positions of these partitions could not be read at assignment. */
    void unverified(Collection<TopicPartition> partitions) {
        unverified.addAll(partitions);
    }

    /** The stored positions of these partitions were read at assignment and the consumer placed by them. */
    void verified(Collection<TopicPartition> partitions) {
        unverified.removeAll(partitions);
    }

    /** Whether the gap must be read from the broker and applied before the batch: an unverified start. */
    boolean mustFill(Gap gap) {
        Long last = lastCommitted.get(gap.partition());
        return !isChecked(gap) && (unverified.contains(gap.partition()) || last != null && gap.next() < last);
    }

    private boolean isChecked(Gap gap) {
        long[] known = checked.get(gap.partition());
        return known != null && known[0] == gap.next() && known[1] == gap.first();
    }

    /** The gap holds nothing left to apply (read from the broker, or what it held was deleted and counted). */
    void checked(Gap gap) {
        checked.put(gap.partition(), new long[] { gap.next(), gap.first() });
    }

    private record Counters(Counter deleted, Counter filled) {
    }

    private final Map<String, Counters> counters = new ConcurrentHashMap<>();

    /** The topic's counters, registered at 0 with its first live batch (so that an alert sees them change). */
    private Counters counters(String topic) {
        return counters.computeIfAbsent(topic, t -> new Counters(
                Counter.builder("readside_offsets_deleted_before_applied")
                        .description("Offsets the log start offset passed before they were applied (retention, "
                                + "DeleteRecords): their records are lost to the read models")
                        .tag("topic", t).register(registry),
                Counter.builder("readside_position_gap_records_applied")
                        .description("Records between the stored position and where the consumer started, read "
                                + "from the broker and applied (an unverified start: positions unreadable at "
                                + "assignment, or restored to an earlier offset)")
                        .tag("topic", t).register(registry)));
    }

    /** A live batch committed: its partitions' next offsets, and the gaps it passed, to be checked for deletions. */
    void committed(String topic, Map<Integer, long[]> ranges, Map<Integer, long[]> gaps) {
        counters(topic);
        ranges.forEach((partition, range) -> {
            TopicPartition tp = new TopicPartition(topic, partition);
            lastCommitted.put(tp, range[1]);
            unverified.remove(tp);
        });
        gaps.forEach((partition, gap) -> {
            Gap committed = new Gap(new TopicPartition(topic, partition), gap[0], gap[1]);
            if (!isChecked(committed)) {
                pending.add(committed);
            }
        });
        if (!pending.isEmpty() && draining.compareAndSet(false, true)) {
            brokerCalls.execute(this::drain);
        }
    }

    /** The partition's log start offset, asked of the broker (on the broker-call thread). */
    Uni<Long> logStart(TopicPartition partition) {
        return Uni.createFrom().item(() -> logStarts(List.of(partition)).get(partition))
                .runSubscriptionOn(brokerCalls);
    }

    /**
     * The records a {@code read_committed} consumer is given from {@code from} up to {@code until} (exclusive), at
     * most {@link #FILL_CHUNK} (on the broker-call thread). Fails when the broker does not get there in time.
     */
    Uni<List<ConsumerRecord<byte[], byte[]>>> fetch(TopicPartition partition, long from, long until) {
        return Uni.createFrom().item(() -> read(partition, from, until)).runSubscriptionOn(brokerCalls);
    }

    /** Counts and logs the part of a gap the log start offset passed before it was applied; returns its size. */
    long deletedBeforeApplied(Gap gap, long logStart) {
        long deleted = Math.min(logStart, gap.first()) - gap.next();
        if (deleted <= 0) {
            return 0;
        }
        counters(gap.partition().topic()).deleted().increment(deleted);
        LOG.errorf("%s: %d offsets (%d to %d) were deleted from the log before they were applied (log start offset "
                + "%d, stored position %d): their records are lost to the read models; rebuild from a source that "
                + "still has them, or accept the loss", gap.partition(), deleted, gap.next(), gap.next() + deleted - 1,
                logStart, gap.next());
        return deleted;
    }

    /** Counts the records of an unverified start read from the broker and applied. */
    void filled(Gap gap, int records) {
        counters(gap.partition().topic()).filled().increment(records);
        LOG.warnf("%s: the consumer started at %d but the stored position is %d; %d records in between read from the "
                + "broker and applied", gap.partition(), gap.first(), gap.next(), records);
    }

    private void drain() {
        try {
            while (!pending.isEmpty()) {
                List<Gap> gaps = new ArrayList<>();
                for (Gap gap = pending.poll(); gap != null && gaps.size() < 10_000; gap = pending.poll()) {
                    gaps.add(gap);
                }
                Map<TopicPartition, Long> starts = logStarts(gaps.stream().map(Gap::partition).distinct().toList());
                gaps.forEach(gap -> deletedBeforeApplied(gap, starts.get(gap.partition())));
            }
        } catch (RuntimeException e) {
            LOG.warnf("could not read log start offsets to check gaps in the positions: %s", e.toString());
        } finally {
            draining.set(false);
            if (!pending.isEmpty() && draining.compareAndSet(false, true)) {
                brokerCalls.execute(this::drain);
            }
        }
    }

    private Map<TopicPartition, Long> logStarts(List<TopicPartition> partitions) {
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        partitions.forEach(partition -> earliest.put(partition, OffsetSpec.earliest()));
        try {
            Map<TopicPartition, Long> starts = new HashMap<>();
            admin().listOffsets(earliest).all().get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .forEach((partition, info) -> starts.put(partition, info.offset()));
            return starts;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (Exception e) {
            throw new IllegalStateException("log start offsets of " + partitions + " unavailable: " + e, e);
        }
    }

    private List<ConsumerRecord<byte[], byte[]>> read(TopicPartition partition, long from, long until) {
        KafkaConsumer<byte[], byte[]> consumer = reader();
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        consumer.assign(List.of(partition));
        consumer.seek(partition, from);
        long deadline = System.nanoTime() + CALL_TIMEOUT.toNanos();
        while (records.size() < FILL_CHUNK && consumer.position(partition, CALL_TIMEOUT) < until) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(partition + ": records " + from + " to " + until
                        + " not read within " + CALL_TIMEOUT.toSeconds() + " s");
            }
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                if (record.offset() < until && records.size() < FILL_CHUNK) {
                    records.add(record);
                }
            }
        }
        return records;
    }

    private Admin admin() {
        if (admin == null) {
            admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) CALL_TIMEOUT.toMillis(),
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) CALL_TIMEOUT.toMillis(),
                    AdminClientConfig.CLIENT_ID_CONFIG, "readside-position-gaps"));
        }
        return admin;
    }

    private KafkaConsumer<byte[], byte[]> reader() {
        if (reader == null) {
            reader = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none",
                    ConsumerConfig.CLIENT_ID_CONFIG, "readside-position-gaps",
                    ConsumerConfig.MAX_POLL_RECORDS_CONFIG, String.valueOf(FILL_CHUNK),
                    ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "50"),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer());
        }
        return reader;
    }

    @PreDestroy
    void close() {
        brokerCalls.execute(() -> {
            if (admin != null) {
                admin.close(Duration.ofSeconds(2));
            }
            if (reader != null) {
                reader.close(Duration.ofSeconds(2));
            }
        });
        brokerCalls.shutdown();
    }
}
