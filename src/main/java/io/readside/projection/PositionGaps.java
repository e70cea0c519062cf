package io.readside.projection;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;

/**
 * Offsets between a partition's stored position and the first record the consumer hands over (a <em>gap</em>), most
 * of them nothing to apply (transaction markers, aborted or compacted records). Not trusted: <b>an unverified
 * start</b> (positions unreadable at assignment, so the consumer started at Kafka's committed offset; or the stored
 * position below where this instance placed the consumer or last committed: a database restored while it runs, a row
 * gone), whose gap is read from the broker ({@code read_committed}) and applied first ({@link #fill}); and <b>records
 * deleted before they were applied</b> (the log start offset passed the stored position), counted in
 * {@code readside_offsets_deleted_before_applied_total{topic}} (offsets), logged at ERROR and alerted on. Every other
 * gap is checked against the log start offset right after its batch commits. Broker calls run on a thread of their
 * own ({@code readside-position-gaps}), never in a transaction.
 */
@ApplicationScoped
public class PositionGaps {

    private static final Logger LOG = Logger.getLogger(PositionGaps.class);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    /** A gap whose log start check keeps failing is given up (logged) after this long. */
    private static final Duration CHECK_FOR_AT_MOST = Duration.ofMinutes(10);
    /** Records read from the broker and applied per transaction when a gap is filled. */
    static final int FILL_CHUNK = 2_000;

    @Inject
    MeterRegistry registry;
    @Inject
    Config config;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    private final ScheduledExecutorService brokerCalls = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "readside-position-gaps");
        thread.setDaemon(true);
        return thread;
    });
    /** which gaps must be read from the broker first */
    private final GapTrust trust = new GapTrust();
    /** per partition, the stored position whose deleted offsets were last counted (once per gap) */
    private final Map<Owned, Long> deletionCounted = new ConcurrentHashMap<>();
    /** gaps committed past, waiting for their log start check */
    private final ConcurrentLinkedQueue<Pending> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final Map<String, Counters> counters = new ConcurrentHashMap<>();
    /** what the broker is asked through (a test's stand-in may take its place) */
    GapBroker broker;

    /** A partition as a consumer group's positions hold it. */
    record Owned(String group, TopicPartition partition) {
    }

    /** A gap of a group's partition: offsets {@code next} (the stored position) to {@code first} (exclusive). */
    record Gap(Owned owned, long next, long first) {
        TopicPartition partition() {
            return owned.partition();
        }
    }

    private record Pending(Gap gap, long since) { }

    private record Counters(Counter deleted, Counter filled) { }

    @PostConstruct
    void init() {
        broker = new GapBroker(bootstrapServers, CALL_TIMEOUT, FILL_CHUNK);
    }

    /** The counters of every consumed topic, at 0 from the start, so that an alert sees the first increase. */
    void registerCounters(@Observes StartupEvent started) {
        ProjectedChannels.of(config).forEach(consumed -> counters(consumed.topic()));
    }

    /** Taken by a batch when it begins, for {@link #mustFill} and {@link #committed} ({@link GapTrust.Began}). */
    GapTrust.Began began() {
        return trust.began();
    }

    /** The stored positions of these partitions could not be read at assignment. */
    void unverified(String group, Collection<TopicPartition> partitions) {
        trust.unverified(group, partitions);
    }

    /**
     * The consumer was placed by the stored positions read at assignment ({@code stored}: partition to next offset;
     * absent: no position yet).
     */
    void placed(String group, Collection<TopicPartition> partitions, Map<TopicPartition, Long> stored) {
        trust.placed(group, partitions, stored);
    }

    /** The partitions moved to another instance: what this one expected of them no longer holds. */
    void revoked(String group, Collection<TopicPartition> partitions) {
        trust.revoked(group, partitions);
    }

    /** Whether the gap must be read from the broker and applied before the batch ({@link GapTrust}). */
    boolean mustFill(Gap gap, GapTrust.Began began) {
        return trust.mustFill(gap, began);
    }

    /** The gap holds nothing left to apply (read from the broker, or what it held was deleted and counted). */
    void checked(Gap gap) {
        trust.checked(gap);
    }

    /** The topic's counters (registered at 0 on first use). */
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

    /**
     * A live batch committed: its partitions' next offsets, and the gaps it passed after a stored position (a
     * position of 0 is none: nothing applied), to be checked for deletions; {@code began}: what it took at its start.
     */
    void committed(String group, String topic, Map<Integer, long[]> ranges, Map<Integer, long[]> gaps,
            GapTrust.Began began) {
        trust.committed(group, topic, ranges, began);
        long now = System.nanoTime();
        gaps.forEach((partition, gap) -> {
            Gap committed = new Gap(new Owned(group, new TopicPartition(topic, partition)), gap[0], gap[1]);
            if (gap[0] > 0 && !trust.isChecked(committed)) {
                pending.add(new Pending(committed, now));
            }
        });
        drainSoon(0);
    }

    private void drainSoon(long delayMillis) {
        if (!pending.isEmpty() && draining.compareAndSet(false, true)) {
            try {
                brokerCalls.schedule(this::drain, delayMillis, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) { // shutting down
                draining.set(false);
            }
        }
    }

    /** The partition's log start offset, asked of the broker (on the broker-call thread). */
    Uni<Long> logStart(TopicPartition partition) {
        return Uni.createFrom().item(() -> broker.logStarts(List.of(partition)).get(partition))
                .runSubscriptionOn(brokerCalls);
    }

    /**
     * The records a {@code read_committed} consumer is given from {@code from} up to {@code until} (exclusive), at
     * most {@link #FILL_CHUNK} (on the broker-call thread); fewer when the broker is slow, and none only when there
     * are none. Fails when the broker gives nothing in time.
     */
    Uni<List<ConsumerRecord<byte[], byte[]>>> fetch(TopicPartition partition, long from, long until) {
        return Uni.createFrom().item(() -> broker.read(partition, from, until)).runSubscriptionOn(brokerCalls);
    }

    /**
     * Counts and logs, once per gap, the part of it the log start offset passed before it was applied (offsets:
     * transaction markers among them count too).
     */
    void deletedBeforeApplied(Gap gap, long logStart) {
        long deleted = Math.min(logStart, gap.first()) - gap.next();
        if (deleted <= 0 || Long.valueOf(gap.next()).equals(deletionCounted.put(gap.owned(), gap.next()))) {
            return;
        }
        counters(gap.partition().topic()).deleted().increment(deleted);
        LOG.errorf("%s (group %s): %d offsets (%d to %d) were deleted from the log before they were applied (log "
                + "start offset %d, stored position %d): their records are lost to the read models; rebuild from a "
                + "source that still has them, or accept the loss", gap.partition(), gap.owned().group(), deleted,
                gap.next(), gap.next() + deleted - 1, logStart, gap.next());
    }

    /**
     * Reads an unverified start's gap from the broker and has its records applied ({@code apply}: a chunk per
     * transaction, in order); what the log start offset passed is counted as deleted before it was applied. Until it
     * reads through, every later gap of the partition from before its end is filled too (a chunk committed, then the
     * next one failed).
     */
    Uni<Void> fill(Gap gap, Function<List<ConsumerRecord<byte[], byte[]>>, Uni<Void>> apply) {
        trust.fillBegins(gap);
        return logStart(gap.partition()).chain(start -> {
            deletedBeforeApplied(gap, start);
            return fillFrom(gap, Math.max(gap.next(), start), apply);
        });
    }

    private Uni<Void> fillFrom(Gap gap, long from, Function<List<ConsumerRecord<byte[], byte[]>>, Uni<Void>> apply) {
        if (from >= gap.first()) {
            trust.filledThrough(gap);
            return Uni.createFrom().voidItem();
        }
        return fetch(gap.partition(), from, gap.first()).chain(records -> {
            if (records.isEmpty()) { // nothing a read_committed consumer is given: markers, aborted records
                trust.filledThrough(gap);
                return Uni.createFrom().voidItem();
            }
            checked(new Gap(gap.owned(), gap.next(), records.get(0).offset()));
            long after = records.get(records.size() - 1).offset() + 1;
            return apply.apply(records).invoke(() -> filled(gap, records.size()))
                    .chain(() -> fillFrom(new Gap(gap.owned(), after, gap.first()), after, apply));
        });
    }

    /** Counts the records of an unverified start read from the broker and applied. */
    void filled(Gap gap, int records) {
        counters(gap.partition().topic()).filled().increment(records);
        LOG.warnf("%s (group %s): the consumer started at %d but the stored position was %d; %d records in between "
                + "read from the broker and applied", gap.partition(), gap.owned().group(), gap.first(), gap.next(),
                records);
    }

    private void drain() {
        List<Pending> gaps = new ArrayList<>();
        for (Pending gap; gaps.size() < 10_000 && (gap = pending.poll()) != null;) {
            gaps.add(gap);
        }
        long retryIn = 0;
        try {
            Map<TopicPartition, Long> starts = broker.logStarts(gaps.stream().map(p -> p.gap().partition()).distinct()
                    .toList());
            gaps.forEach(p -> deletedBeforeApplied(p.gap(), starts.get(p.gap().partition())));
        } catch (RuntimeException e) {
            long giveUpBefore = System.nanoTime() - CHECK_FOR_AT_MOST.toNanos();
            List<Pending> kept = gaps.stream().filter(p -> p.since() - giveUpBefore > 0).toList();
            LOG.warnf("could not read log start offsets to check %d gaps in the positions (%s); tried again in 5 s%s",
                    kept.size(), e.toString(), kept.size() == gaps.size() ? ""
                            : "; " + (gaps.size() - kept.size()) + " gaps given up after "
                                    + CHECK_FOR_AT_MOST.toMinutes() + " minutes: " + gaps.stream()
                                            .filter(p -> !kept.contains(p)).limit(10).map(Pending::gap).toList());
            pending.addAll(kept);
            retryIn = 5_000;
        } finally {
            draining.set(false);
            drainSoon(retryIn);
        }
    }

    @PreDestroy
    void close() {
        GapBroker created = broker;
        if (created != null) {
            brokerCalls.execute(created::close);
        }
        brokerCalls.shutdown();
    }
}
