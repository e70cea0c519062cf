package io.readside.projection.lag;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.readside.projection.LogGuard;
import io.readside.projection.ProjectedChannels;
import io.readside.projection.ProjectedChannels.Consumed;
import io.readside.projection.lag.BrokerOffsets.LogOffsets;
import io.readside.projection.lag.FirstApplicableRecords.FirstApplicable;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Measures consumer lag the way a read model's reader experiences it: the last stable offsets (LSO: the end of the
 * log a {@code read_committed} consumer may read; Kafka Admin client) against the positions committed in PostgreSQL
 * with the applied changes, every {@code readside.lag.interval}, on its own thread, never touching the consumers.
 * Records that will never be delivered (transaction markers, aborted transactions) are not lag: a separate,
 * group-less {@code read_committed} consumer reads from the stored position to the first applicable record, whose
 * offset the lag in records counts from and whose timestamp the lag in seconds is the age of.
 *
 * <p>This class schedules the measurements and computes the lag; the broker's offsets come from
 * {@link BrokerOffsets}, the first applicable records from {@link FirstApplicableRecords}, and the per-partition
 * gauges are {@link LagGauges}.
 */
@ApplicationScoped
public class LagMonitor {

    private static final Logger LOG = Logger.getLogger(LagMonitor.class);
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);
    /** Each broker call of a question for a consistency token beyond the last measurement (a request waits on it). */
    static final Duration QUESTION_TIMEOUT = Duration.ofSeconds(2);

    static final String POSITIONS = """
            SELECT consumer_group, topic, kafka_partition, next_offset, updated_at
              FROM projection_positions
             WHERE topic = ANY($1)""";

    @Inject
    Config config;
    @Inject
    Pool pool;
    @Inject
    MeterRegistry registry;
    @Inject
    LogGuard guard;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @ConfigProperty(name = "readside.lag.interval")
    Duration interval;

    private final AtomicReference<LagSnapshot> latest = new AtomicReference<>(LagSnapshot.NONE);
    private final Map<String, Instant> caughtUp = new ConcurrentHashMap<>();
    private final Set<String> seen = ConcurrentHashMap.newKeySet();
    private ScheduledExecutorService scheduler;
    private BrokerOffsets broker;
    private FirstApplicableRecords peeker;
    private LagGauges gauges;
    private LogEndQuestions questions;

    @PostConstruct
    void init() {
        broker = new BrokerOffsets(bootstrapServers);
        peeker = new FirstApplicableRecords(bootstrapServers);
        gauges = new LagGauges(registry);
        questions = new LogEndQuestions((topic, partition) -> broker.logEnd(topic, partition, QUESTION_TIMEOUT));
    }

    void start(@Observes StartupEvent event) {
        if (consumed().isEmpty()) {
            return; // no Kafka channel (the in-memory test tier)
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "readside-lag-monitor");
            thread.setDaemon(true);
            return thread;
        });
        scheduler.scheduleWithFixedDelay(this::measureSafely, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        Gauge.builder("readside.kafka.reachable", this, monitor -> monitor.latest().kafkaDown() ? 0 : 1)
                .description("1 while the broker answers the lag monitor, 0 while it does not").register(registry);
    }

    @PreDestroy
    void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            try {
                scheduler.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        questions.close();
        peeker.close();
        broker.close();
    }

    /**
     * The latest time at which everything the channel's topic held had been applied: every record written to the
     * log before it is in the read model (empty: not measured caught up since start). A decision that needs "no
     * answer has arrived" (the payment time-out) waits on this, not on the wall clock.
     */
    public java.util.Optional<Instant> caughtUpAt(String channel) {
        return java.util.Optional.ofNullable(caughtUp.get(channel));
    }

    public LagSnapshot latest() {
        return latest.get();
    }

    public Duration interval() {
        return interval;
    }

    /** A partition's log as the broker described it: {@code endOffset} is the offset the next record will get. */
    public record LogEnd(String topic, int partitions, int partition, boolean exists, long endOffset) {
    }

    /** The log end offset of a partition at the latest measurement; empty when that measurement did not see it. */
    public OptionalLong measuredEndOffset(String topic, int partition) {
        return latest().partitions().stream().filter(p -> p.topic().equals(topic) && p.partition() == partition)
                .mapToLong(PartitionLag::endOffset).max();
    }

    /**
     * A log end that tells whether {@code offset} exists in the partition, asked of the broker only when the latest
     * answer does not already show it (one question per partition at a time, shared by its callers, on threads of its
     * own, each broker call within {@link #QUESTION_TIMEOUT}: {@link LogEndQuestions}). A topic that does not exist
     * has no partitions; fails when the broker cannot be asked.
     */
    public Uni<LogEnd> logEndBeyond(String topic, int partition, long offset) {
        return questions.endBeyond(topic, partition, offset);
    }

    /** Where the questions of {@link #logEndBeyond} go from now on (a test's observer); returns the previous. */
    BiFunction<String, Integer, LogEnd> askThrough(BiFunction<String, Integer, LogEnd> replacement) {
        return questions.askThrough(replacement);
    }

    /** The broker did not answer a measurement; the read side keeps serving from PostgreSQL meanwhile. */
    static final class KafkaUnreachableException extends Exception {
        KafkaUnreachableException(Exception cause) {
            super("Kafka did not answer: " + cause.getClass().getSimpleName() + ": " + cause.getMessage(), cause);
        }
    }

    /** When the broker last answered a measurement (null: not yet); readiness does not depend on it. */
    public Instant kafkaAnsweredAt() {
        return kafkaAnsweredAt;
    }

    private volatile Instant kafkaAnsweredAt;

    /** When the measurement under way began; null between measurements. */
    public Instant measuringSince() {
        return measuringSince;
    }

    private volatile Instant measuringSince;

    private void measureSafely() {
        measuringSince = Instant.now();
        try {
            measure();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.debugf(e, "lag measurement failed");
            String why = e instanceof KafkaUnreachableException ? e.getMessage()
                    : e.getClass().getSimpleName() + ": " + e.getMessage();
            latest.set(latest.get().failed(why, Instant.now(), e instanceof KafkaUnreachableException));
        } finally {
            measuringSince = null;
        }
    }

    /** One measurement; runs on the monitor's thread. */
    void measure() throws Exception {
        List<Consumed> consumed = consumed();
        Instant askedAt = Instant.now(); // every record in the log at this moment is below the offsets read next
        LogOffsets log;
        try {
            log = broker.logOffsets(consumed.stream().map(Consumed::topic).toList());
        } catch (ExecutionException | TimeoutException | org.apache.kafka.common.KafkaException e) {
            throw new KafkaUnreachableException(e);
        }
        kafkaAnsweredAt = Instant.now();
        List<String> topics = log.topics();
        topics.forEach(guard::verify);
        Map<TopicPartition, ListOffsetsResultInfo> ends = log.ends();
        Map<TopicPartition, ListOffsetsResultInfo> starts = log.starts();
        Map<String, Row> positions = new HashMap<>();
        for (Row row : pool.preparedQuery(POSITIONS).execute(Tuple.of(topics.toArray(new String[0])))
                .await().atMost(CALL_TIMEOUT)) {
            positions.put(key(row.getString("consumer_group"), row.getString("topic"),
                    row.getInteger("kafka_partition")), row);
        }
        Instant now = Instant.now();
        LagSnapshot previous = latest.get();
        Map<String, PartitionLag> before = new HashMap<>();
        previous.partitions().forEach(p -> before.put(key(p.group(), p.topic(), p.partition()), p));

        List<PartitionLag> measured = new ArrayList<>();
        Map<TopicPartition, long[]> unapplied = new HashMap<>(); // partition -> {applied, end}
        for (Consumed c : consumed) {
            for (TopicPartition tp : new TreeMap<>(byPartition(ends, c.topic())).values()) {
                long end = ends.get(tp).offset();
                long start = starts.get(tp).offset();
                Row position = positions.get(key(c.group(), tp.topic(), tp.partition()));
                long applied = Math.max(start, position == null ? start : position.getLong("next_offset"));
                if (end > applied) {
                    unapplied.put(tp, new long[] { applied, end });
                }
                PartitionLag last = before.get(key(c.group(), tp.topic(), tp.partition()));
                double rate = last == null || previous.measuredAt() == null ? 0
                        : Math.max(0, applied - last.appliedOffset())
                                / Math.max(0.001, Duration.between(previous.measuredAt(), now).toMillis() / 1000.0);
                measured.add(new PartitionLag(c.channel(), c.group(), tp.topic(), tp.partition(), end, applied,
                        Math.max(0, end - applied), 0, rate,
                        position == null ? null : position.getOffsetDateTime("updated_at").toInstant()));
            }
        }
        Map<TopicPartition, FirstApplicable> first = peeker.firstApplicable(unapplied);
        List<PartitionLag> partitions = measured.stream().map(p -> {
            if (p.lagRecords() == 0) {
                return p;
            }
            FirstApplicable record = first.get(new TopicPartition(p.topic(), p.partition()));
            if (record == FirstApplicable.NONE) { // only markers or aborted records up to the LSO: caught up
                return new PartitionLag(p.channel(), p.group(), p.topic(), p.partition(), p.endOffset(),
                        p.appliedOffset(), 0, 0, p.appliedPerSecond(), p.lastAppliedAt());
            }
            long lagRecords = record == null ? p.lagRecords() : Math.max(0, p.endOffset() - record.offset());
            double seconds = record == null ? 0 : Math.max(0, (now.toEpochMilli() - record.timestamp()) / 1000.0);
            return new PartitionLag(p.channel(), p.group(), p.topic(), p.partition(), p.endOffset(),
                    p.appliedOffset(), lagRecords, seconds, p.appliedPerSecond(), p.lastAppliedAt());
        }).toList();
        latest.set(new LagSnapshot(now, partitions, null, null));
        partitions.forEach(gauges::publish);
        for (Consumed c : consumed) {
            List<PartitionLag> own = partitions.stream().filter(p -> p.channel().equals(c.channel())).toList();
            if (!own.isEmpty()) {
                seen.add(c.topic());
            }
            // a fenced topic's positions say nothing of its log; a topic that existed and is gone is not caught up
            boolean knowable = !guard.isFenced(c.topic()) && (!own.isEmpty() || !seen.contains(c.topic()));
            if (knowable && own.stream().allMatch(p -> p.lagRecords() == 0)) {
                caughtUp.put(c.channel(), askedAt);
            }
        }
    }

    private static Map<Integer, TopicPartition> byPartition(Map<TopicPartition, ?> offsets, String topic) {
        Map<Integer, TopicPartition> partitions = new TreeMap<>();
        offsets.keySet().stream().filter(tp -> tp.topic().equals(topic)).forEach(tp -> partitions.put(tp.partition(), tp));
        return partitions;
    }

    List<Consumed> consumed() {
        return ProjectedChannels.of(config);
    }

    static String key(String group, String topic, int partition) {
        return group + "|" + topic + "|" + partition;
    }
}
