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

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.quarkus.runtime.StartupEvent;
import io.readside.projection.LogGuard;
import io.readside.projection.ProjectedChannels;
import io.readside.projection.ProjectedChannels.Consumed;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
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
 */
@ApplicationScoped
public class LagMonitor {

    private static final Logger LOG = Logger.getLogger(LagMonitor.class);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

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
    private final Map<String, AtomicReference<PartitionLag>> gauges = new ConcurrentHashMap<>();
    private ScheduledExecutorService scheduler;
    private Admin admin;
    private KafkaConsumer<byte[], byte[]> peeker;

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
        if (peeker != null) {
            peeker.close(Duration.ofSeconds(2));
        }
        synchronized (this) {
            if (admin != null) {
                admin.close(Duration.ofSeconds(2));
            }
        }
    }

    private final Map<String, Instant> caughtUp = new ConcurrentHashMap<>();
    private final Set<String> seen = ConcurrentHashMap.newKeySet();

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
     * Asks the broker once, now, for a partition's log end offset (with this monitor's Admin client, on a worker
     * thread, at most {@code timeout}). A topic that does not exist has no partitions; fails when the broker cannot
     * be asked.
     */
    public Uni<LogEnd> askLogEnd(String topic, int partition, Duration timeout) {
        return Uni.createFrom().item(() -> logEnd(topic, partition, timeout))
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    private LogEnd logEnd(String topic, int partition, Duration timeout) {
        int millis = (int) timeout.toMillis();
        try {
            TopicDescription description = admin().describeTopics(List.of(topic),
                    new DescribeTopicsOptions().timeoutMs(millis)).allTopicNames()
                    .get(millis, TimeUnit.MILLISECONDS).get(topic);
            int partitions = description.partitions().size();
            if (description.partitions().stream().noneMatch(p -> p.partition() == partition)) {
                return new LogEnd(topic, partitions, partition, false, 0);
            }
            TopicPartition tp = new TopicPartition(topic, partition);
            long end = admin().listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions().timeoutMs(millis))
                    .partitionResult(tp).get(millis, TimeUnit.MILLISECONDS).offset();
            return new LogEnd(topic, partitions, partition, true, end);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return new LogEnd(topic, 0, partition, false, 0);
            }
            throw new IllegalStateException("the broker could not say where " + topic + "-" + partition + " ends",
                    e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("the broker did not say within " + timeout + " where " + topic + "-"
                    + partition + " ends", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** One Admin client for the measurements and the questions, created on first use. */
    private synchronized Admin admin() {
        if (admin == null) {
            admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) CALL_TIMEOUT.toMillis(),
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) CALL_TIMEOUT.toMillis(),
                    AdminClientConfig.CLIENT_ID_CONFIG, "readside-lag-monitor"));
        }
        return admin;
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

    private void measureSafely() {
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
        }
    }

    /** One measurement; runs on the monitor's thread. */
    void measure() throws Exception {
        List<Consumed> consumed = consumed();
        Instant askedAt = Instant.now(); // every record in the log at this moment is below the offsets read next
        LogOffsets log;
        try {
            log = logOffsets(consumed);
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
        Map<TopicPartition, FirstApplicable> first = firstApplicable(unapplied);
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
        partitions.forEach(this::publish);
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

    /** The consumed topics that exist, and each partition's log start offset and LSO. */
    private record LogOffsets(List<String> topics, Map<TopicPartition, ListOffsetsResultInfo> ends,
            Map<TopicPartition, ListOffsetsResultInfo> starts) {
    }

    private LogOffsets logOffsets(List<Consumed> consumed) throws InterruptedException, ExecutionException,
            TimeoutException {
        Admin client = admin();
        Set<String> existing = client.listTopics().names().get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        List<String> topics = consumed.stream().map(Consumed::topic).filter(existing::contains).distinct().toList();
        Map<TopicPartition, OffsetSpec> latestSpec = new HashMap<>();
        Map<TopicPartition, OffsetSpec> earliestSpec = new HashMap<>();
        if (!topics.isEmpty()) {
            for (TopicDescription topic : client.describeTopics(topics).allTopicNames()
                    .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).values()) {
                topic.partitions().forEach(p -> {
                    latestSpec.put(new TopicPartition(topic.name(), p.partition()), OffsetSpec.latest());
                    earliestSpec.put(new TopicPartition(topic.name(), p.partition()), OffsetSpec.earliest());
                });
            }
        }
        // the LSO: records of an open transaction are not applicable until it commits
        Map<TopicPartition, ListOffsetsResultInfo> ends = latestSpec.isEmpty() ? Map.of()
                : client.listOffsets(latestSpec, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
                        .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        Map<TopicPartition, ListOffsetsResultInfo> starts = earliestSpec.isEmpty() ? Map.of()
                : client.listOffsets(earliestSpec).all().get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        return new LogOffsets(topics, ends, starts);
    }

    /** The first record a read_committed consumer gets at or after an offset; {@link #NONE}: none before the LSO. */
    private record FirstApplicable(long offset, long timestamp) {
        static final FirstApplicable NONE = new FirstApplicable(-1, -1);
    }

    /**
     * For each partition ({@code applied, end}), the first record at or after {@code applied} that a read_committed
     * consumer is given (a compacted or deleted one, a transaction marker, an aborted record are skipped), or
     * {@link FirstApplicable#NONE} when its position reaches {@code end} without one. Absent: not found in time.
     */
    private Map<TopicPartition, FirstApplicable> firstApplicable(Map<TopicPartition, long[]> ranges) {
        Map<TopicPartition, FirstApplicable> first = new HashMap<>();
        if (ranges.isEmpty()) {
            return first;
        }
        if (peeker == null) {
            peeker = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.CLIENT_ID_CONFIG, "readside-lag-peeker",
                    ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "100",
                    ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "65536"),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer());
        }
        peeker.assign(ranges.keySet());
        ranges.forEach((tp, range) -> peeker.seek(tp, range[0]));
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (first.size() < ranges.size() && System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> record : peeker.poll(Duration.ofMillis(200))) {
                TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                first.putIfAbsent(tp, new FirstApplicable(record.offset(), record.timestamp()));
                peeker.pause(List.of(tp));
            }
            for (Map.Entry<TopicPartition, long[]> range : ranges.entrySet()) {
                TopicPartition tp = range.getKey();
                if (!first.containsKey(tp) && peeker.position(tp, Duration.ofSeconds(1)) >= range.getValue()[1]) {
                    first.put(tp, FirstApplicable.NONE);
                    peeker.pause(List.of(tp));
                }
            }
        }
        peeker.resume(peeker.paused());
        return first;
    }

    private void publish(PartitionLag lag) {
        String key = key(lag.group(), lag.topic(), lag.partition());
        AtomicReference<PartitionLag> holder = gauges.get(key);
        if (holder == null) {
            AtomicReference<PartitionLag> created = new AtomicReference<>(lag);
            holder = gauges.putIfAbsent(key, created);
            if (holder == null) {
                holder = created;
                Tags tags = Tags.of("group", lag.group(), "topic", lag.topic(), "partition",
                        Integer.toString(lag.partition()));
                Gauge.builder("readside.consumer.lag.records", created, h -> h.get().lagRecords()).tags(tags)
                        .description("Records in the log not yet applied to the read model").register(registry);
                Gauge.builder("readside.consumer.lag.seconds", created, h -> h.get().lagSeconds()).tags(tags)
                        .description("Age of the oldest record not yet applied; 0 when caught up")
                        .register(registry);
            }
        }
        holder.set(lag);
    }

    private static Map<Integer, TopicPartition> byPartition(Map<TopicPartition, ?> offsets, String topic) {
        Map<Integer, TopicPartition> partitions = new TreeMap<>();
        offsets.keySet().stream().filter(tp -> tp.topic().equals(topic)).forEach(tp -> partitions.put(tp.partition(), tp));
        return partitions;
    }

    List<Consumed> consumed() {
        return ProjectedChannels.of(config);
    }

    private static String key(String group, String topic, int partition) {
        return group + "|" + topic + "|" + partition;
    }
}
