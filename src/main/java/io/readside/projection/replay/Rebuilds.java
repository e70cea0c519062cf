package io.readside.projection.replay;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.flywaydb.core.Flyway;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.readside.projection.AdvisoryLocks;
import io.readside.projection.LogGuard;
import io.readside.projection.Projector;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Transaction;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Rebuilds a read model from the earliest retained offset of its topic while the live one keeps answering: the
 * records are replayed by the read model's own projector into shadow tables (schema {@value #SHADOW}, laid out by
 * the same Flyway migrations), never beyond the live positions; then, with the live writers of that topic held on
 * their position rows, the shadow catches up to the last live position and the tables are swapped in one
 * transaction. Queries read the old tables until that commit and the new ones after it.
 *
 * <p>One rebuild at a time across all instances (a PostgreSQL advisory lock); its progress is kept by the instance
 * that runs it ({@code GET /admin/rebuilds/{readModel}}, gauges {@code readside_rebuild_*}).
 */
@ApplicationScoped
public class Rebuilds {

    private static final Logger LOG = Logger.getLogger(Rebuilds.class);

    public static final String SHADOW = "readside_rebuild";
    static final String REPLACED = "readside_replaced";
    /** the advisory lock that makes one rebuild run at a time ("readside" in ASCII) */
    static final long LOCK_KEY = AdvisoryLocks.REBUILD;
    /** when the shadow is this close to the live positions, the switch holds the live writers and catches up */
    static final long SWITCH_WHEN_BEHIND = 1_000;

    static final String LIVE_POSITIONS = """
            SELECT kafka_partition, next_offset FROM projection_positions WHERE consumer_group = $1 AND topic = $2""";
    static final String HOLD_LIVE_POSITIONS = LIVE_POSITIONS + " FOR UPDATE";
    static final String SHADOW_POSITIONS = """
            SELECT kafka_partition, next_offset FROM readside_rebuild.projection_positions
             WHERE consumer_group = $1 AND topic = $2""";
    static final String COPY_STREAM_TIME = """
            UPDATE projection_positions p SET stream_time = s.stream_time, updated_at = now()
              FROM readside_rebuild.projection_positions s
             WHERE s.consumer_group = p.consumer_group AND s.topic = p.topic AND s.kafka_partition = p.kafka_partition
               AND p.consumer_group = $1 AND p.topic = $2""";

    /**
     * Rows of a read model's entity table whose applied version lies before its partition's log start offset: the
     * topic no longer holds it (retention deleted it), so a rebuild would not bring the row back.
     */
    static final String ROWS_BEFORE_LOG_START = """
            SELECT count(*) FROM %s t
              JOIN unnest($1::int[], $2::bigint[]) AS s(kafka_partition, log_start)
                ON t.source_partition = s.kafka_partition AND t.source_offset < s.log_start""";

    /** A rebuild would lose rows the topic no longer holds, and the request did not accept that. */
    public static final class HistoryLossException extends IllegalStateException {
        public HistoryLossException(String message) {
            super(message);
        }
    }

    public enum State {
        PREPARING, REPLAYING, SWITCHING, DONE, FAILED
    }

    /** What {@code GET /admin/rebuilds/{readModel}} answers. Offsets per partition: the next record to apply. */
    public record RebuildStatus(String readModel, String topic, State state, Instant startedAt, Instant finishedAt,
            long replayedRecords, long invalidRecords, long remainingRecords, Map<Integer, Long> liveOffsets,
            Map<Integer, Long> rebuiltOffsets, Long switchMillis, String error, long rowsBeforeLogStart,
            Map<Integer, Long> logStartOffsets) {
    }

    @Inject
    Pool pool;
    @Inject
    Instance<Replayable<?>> readModels;
    @Inject
    Projector engine;
    @Inject
    Flyway flyway;
    @Inject
    MeterRegistry registry;
    @Inject
    LogGuard guard;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    private final ExecutorService worker = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "readside-rebuild");
        thread.setDaemon(true);
        return thread;
    });
    private final Map<String, Run> runs = new ConcurrentHashMap<>();

    public List<String> readModelNames() {
        return readModels.stream().map(Replayable::readModel).sorted().toList();
    }

    /** The topics read models are projected from (and that dead letters may be re-published to). */
    public List<String> topics() {
        return readModels.stream().map(Replayable::topic).sorted().toList();
    }

    public Optional<RebuildStatus> status(String readModel) {
        return Optional.ofNullable(runs.get(readModel)).map(Run::status);
    }

    /**
     * Starts a rebuild in the background. A rebuild replays what the topic still holds: when retention (or a
     * deletion of records) moved a partition's log start past versions the live read model holds, those rows would
     * be lost, and the rebuild is refused unless {@code acceptHistoryLoss}.
     *
     * @throws IllegalArgumentException for an unknown read model
     * @throws HistoryLossException when rows would be lost and that was not accepted (the message says how many)
     * @throws IllegalStateException when a rebuild is running (here or on another instance)
     */
    public RebuildStatus start(String readModel, boolean acceptHistoryLoss) {
        Replayable<?> model = readModels.stream().filter(m -> m.readModel().equals(readModel)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(readModel));
        if (guard.verify(model.topic()) != LogGuard.Verdict.SAME) {
            throw new IllegalStateException("topic " + model.topic() + " is fenced, or its log could not be checked: "
                    + "a rebuild needs the log the live read model came from (accept the new log first)");
        }
        Map<Integer, Long> logStarts = logStarts(model.topic());
        long lost = rowsBeforeLogStart(model, logStarts);
        if (lost > 0 && !acceptHistoryLoss) {
            throw new HistoryLossException("topic " + model.topic() + " no longer holds the versions of " + lost
                    + " rows of " + model.tables().get(0) + " (log start offsets " + new TreeMap<>(logStarts)
                    + "): a rebuild would delete them. Repeat with accept-history-loss=true to rebuild anyway");
        }
        synchronized (runs) {
            if (runs.values().stream().anyMatch(Run::running)) {
                throw new IllegalStateException("a rebuild is running on this instance");
            }
            SqlConnection lock = pool.getConnection().await().atMost(Duration.ofSeconds(10));
            boolean locked = lock.preparedQuery("SELECT pg_try_advisory_lock($1)").execute(Tuple.of(LOCK_KEY))
                    .await().atMost(Duration.ofSeconds(10)).iterator().next().getBoolean(0);
            if (!locked) {
                lock.close().await().indefinitely();
                throw new IllegalStateException("a rebuild is running on another instance");
            }
            Run run = new Run(model, lost, logStarts);
            runs.put(readModel, run);
            registerGauges(readModel);
            worker.submit(() -> {
                State end = State.FAILED;
                String error = null;
                try {
                    rebuild(run);
                    end = State.DONE;
                } catch (Exception e) {
                    error = e.toString();
                    LOG.errorf(e, "rebuild of %s failed; the live read model is unchanged", readModel);
                } finally {
                    // the connection goes back to the pool, its session (and a session lock) live on: unlock first
                    lock.preparedQuery("SELECT pg_advisory_unlock($1)").execute(Tuple.of(LOCK_KEY))
                            .eventually(lock::close).await().indefinitely();
                }
                run.finish(end, error);
            });
            return run.status();
        }
    }

    private void rebuild(Run run) {
        Replayable<?> model = run.model;
        LOG.infof("rebuild of %s from topic %s: started", model.readModel(), model.topic());
        prepareShadowSchema();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            List<TopicPartition> partitions = consumer.partitionsFor(model.topic()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            run.state = State.REPLAYING;
            while (true) {
                run.live = positions(pool, LIVE_POSITIONS, model);
                replayUpTo(consumer, run, run.live);
                if (behind(positions(pool, LIVE_POSITIONS, model), run.rebuilt) <= SWITCH_WHEN_BEHIND) {
                    break;
                }
            }
            // the bulk of the carry-over before the writers are held; the switch redoes only what was replayed since
            String schema = identifier(pool.query("SELECT current_schema()").execute().await().indefinitely()
                    .iterator().next().getString(0));
            Instant carriedOver = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
            pool.withConnection(conn -> model.carryOver(conn, schema, SHADOW, null)).await().indefinitely();
            run.state = State.SWITCHING;
            switchOver(consumer, run, carriedOver);
        }
        dropSchemas();
        LOG.infof("rebuild of %s: done, %d records replayed (%d invalid), switch held writers for %d ms",
                model.readModel(), run.replayed.get(), run.invalid.get(), run.switchMillis);
    }

    /** An empty schema with the service's tables, created by the service's own migrations. */
    private void prepareShadowSchema() {
        pool.query("DROP SCHEMA IF EXISTS " + SHADOW + " CASCADE").execute().await().indefinitely();
        Flyway.configure(Thread.currentThread().getContextClassLoader())
                .configuration(flyway.getConfiguration())
                .schemas(SHADOW).defaultSchema(SHADOW).createSchemas(true)
                .load().migrate();
    }

    private void dropSchemas() {
        pool.query("DROP SCHEMA IF EXISTS " + REPLACED + " CASCADE").execute().await().indefinitely();
        pool.query("DROP SCHEMA IF EXISTS " + SHADOW + " CASCADE").execute().await().indefinitely();
    }

    /** Replays every record below {@code target} (partition -> next offset applied live); never one beyond. */
    private void replayUpTo(KafkaConsumer<byte[], byte[]> consumer, Run run, Map<Integer, Long> target) {
        while (true) {
            List<TopicPartition> pending = new ArrayList<>();
            for (TopicPartition partition : consumer.assignment()) {
                long position = consumer.position(partition);
                run.rebuilt.put(partition.partition(), position);
                if (position < target.getOrDefault(partition.partition(), 0L)) {
                    pending.add(partition);
                }
            }
            run.remaining = behind(target, run.rebuilt);
            if (pending.isEmpty()) {
                return;
            }
            consumer.pause(consumer.assignment());
            consumer.resume(pending);
            ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(500));
            List<ConsumerRecord<byte[], byte[]>> batch = new ArrayList<>();
            for (TopicPartition partition : polled.partitions()) {
                long limit = target.getOrDefault(partition.partition(), 0L);
                for (ConsumerRecord<byte[], byte[]> record : polled.records(partition)) {
                    if (record.offset() >= limit) {
                        consumer.seek(partition, record.offset()); // read again once the live side is past it
                        break;
                    }
                    batch.add(record);
                }
            }
            apply(run, batch);
        }
    }

    /** One transaction for the batch; if the database refuses its data, each record alone (as the live path does). */
    private void apply(Run run, List<ConsumerRecord<byte[], byte[]>> batch) {
        if (batch.isEmpty()) {
            return;
        }
        try {
            count(run, batch.size(), inShadow(conn -> run.model.replay(engine, conn, batch)));
        } catch (RuntimeException e) {
            if (!Projector.refusedData(e)) {
                throw e;
            }
            for (ConsumerRecord<byte[], byte[]> record : batch) {
                long valid;
                try {
                    valid = inShadow(conn -> run.model.replay(engine, conn, List.of(record)));
                } catch (RuntimeException refused) {
                    if (!Projector.refusedData(refused)) {
                        throw refused;
                    }
                    inShadow(conn -> run.model.skip(engine, conn, record)); // set aside, as live
                    valid = 0;
                }
                count(run, 1, valid);
            }
        }
    }

    private static void count(Run run, long records, long valid) {
        run.replayed.addAndGet(records);
        run.invalid.addAndGet(records - valid);
    }

    /** A transaction whose unqualified table names are the shadow schema's. */
    private <T> T inShadow(java.util.function.Function<SqlConnection, Uni<T>> work) {
        return pool.withTransaction(conn -> conn.query("SET LOCAL search_path TO " + SHADOW).execute()
                .flatMap(set -> work.apply(conn))).await().indefinitely();
    }

    /**
     * Holds the live writers of the topic (their position rows, locked FOR UPDATE), brings the shadow to exactly
     * those positions, and swaps the tables; everything in one transaction.
     */
    private void switchOver(KafkaConsumer<byte[], byte[]> consumer, Run run, Instant carriedOver) {
        Replayable<?> model = run.model;
        // the log may have been recreated (or its new log accepted) while the replay ran: never swap in a shadow
        // built from another log than the live read model's
        if (guard.verify(model.topic()) != LogGuard.Verdict.SAME) {
            throw new IllegalStateException("topic " + model.topic() + " was fenced, or could not be checked, during "
                    + "the rebuild; the live read model is left as it was");
        }
        SqlConnection conn = pool.getConnection().await().indefinitely();
        try {
            Transaction tx = conn.begin().await().indefinitely();
            long held = System.nanoTime();
            try {
                Map<Integer, Long> live = positions(conn, HOLD_LIVE_POSITIONS, model);
                run.live = live;
                replayUpTo(consumer, run, live);
                Map<Integer, Long> rebuilt = positions(conn, SHADOW_POSITIONS, model);
                for (Map.Entry<Integer, Long> position : live.entrySet()) {
                    Long replayed = rebuilt.get(position.getKey());
                    // no row: retention deleted every record the live side applied from that partition
                    boolean nothingRetained = replayed == null
                            && run.rebuilt.getOrDefault(position.getKey(), 0L) >= position.getValue();
                    if (!position.getValue().equals(replayed) && !nothingRetained) {
                        throw new IllegalStateException("rebuilt positions " + rebuilt + " differ from live " + live);
                    }
                }
                String schema = conn.query("SELECT current_schema()").execute().await().indefinitely()
                        .iterator().next().getString(0);
                model.carryOver(conn, identifier(schema), SHADOW, carriedOver).await().indefinitely();
                conn.preparedQuery(COPY_STREAM_TIME).execute(Tuple.of(model.group(), model.topic()))
                        .await().indefinitely();
                execute(conn, "DROP SCHEMA IF EXISTS " + REPLACED + " CASCADE");
                execute(conn, "CREATE SCHEMA " + REPLACED);
                for (String table : model.tables()) {
                    execute(conn, "ALTER TABLE " + identifier(schema) + "." + identifier(table) + " SET SCHEMA "
                            + REPLACED);
                    execute(conn, "ALTER TABLE " + SHADOW + "." + identifier(table) + " SET SCHEMA "
                            + identifier(schema));
                }
                tx.commit().await().indefinitely();
                run.switchMillis = (System.nanoTime() - held) / 1_000_000;
            } catch (RuntimeException e) {
                tx.rollback().await().indefinitely();
                throw e;
            }
        } finally {
            conn.close().await().indefinitely();
        }
    }

    private static void execute(SqlConnection conn, String sql) {
        conn.query(sql).execute().await().indefinitely();
    }

    /** A schema or table name the service itself chose or read from PostgreSQL, quoted as an identifier. */
    static String identifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static Map<Integer, Long> positions(io.vertx.mutiny.sqlclient.SqlClient client, String sql,
            Replayable<?> model) {
        Map<Integer, Long> positions = new TreeMap<>();
        for (Row row : client.preparedQuery(sql).execute(Tuple.of(model.group(), model.topic())).await()
                .indefinitely()) {
            positions.put(row.getInteger("kafka_partition"), row.getLong("next_offset"));
        }
        return positions;
    }

    static long behind(Map<Integer, Long> target, Map<Integer, Long> reached) {
        long behind = 0;
        for (Map.Entry<Integer, Long> entry : target.entrySet()) {
            behind += Math.max(0, entry.getValue() - reached.getOrDefault(entry.getKey(), 0L));
        }
        return behind;
    }

    /** Each partition's log start offset (the first offset retention kept). */
    private Map<Integer, Long> logStarts(String topic) {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            Map<Integer, Long> starts = new TreeMap<>();
            consumer.beginningOffsets(partitions, Duration.ofSeconds(10))
                    .forEach((partition, offset) -> starts.put(partition.partition(), offset));
            return starts;
        }
    }

    private long rowsBeforeLogStart(Replayable<?> model, Map<Integer, Long> logStarts) {
        if (logStarts.values().stream().allMatch(start -> start == 0)) {
            return 0;
        }
        return pool.preparedQuery(ROWS_BEFORE_LOG_START.formatted(model.tables().get(0)))
                .execute(Tuple.of(logStarts.keySet().toArray(new Integer[0]), logStarts.values().toArray(new Long[0])))
                .await().atMost(Duration.ofSeconds(30)).iterator().next().getLong(0);
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1000);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "readside-rebuild");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"); // what the live pass applied
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private final Map<String, Boolean> gauges = new ConcurrentHashMap<>();

    private void registerGauges(String readModel) {
        gauges.computeIfAbsent(readModel, name -> {
            Gauge.builder("readside.rebuild.replayed.records", runs, r -> r.get(name).replayed.get())
                    .tag("read_model", name).description("Records replayed by the latest rebuild").register(registry);
            Gauge.builder("readside.rebuild.remaining.records", runs, r -> r.get(name).remaining)
                    .tag("read_model", name).description("Records the latest rebuild has still to replay")
                    .register(registry);
            Gauge.builder("readside.rebuild.running", runs, r -> r.get(name).running() ? 1 : 0)
                    .tag("read_model", name).description("1 while a rebuild runs").register(registry);
            return true;
        });
    }

    @PreDestroy
    void stop() {
        worker.shutdownNow();
    }

    private static final class Run {
        final Replayable<?> model;
        final Instant startedAt = Instant.now();
        final AtomicLong replayed = new AtomicLong();
        final AtomicLong invalid = new AtomicLong();
        volatile State state = State.PREPARING;
        volatile long remaining;
        volatile Map<Integer, Long> live = Map.of();
        final Map<Integer, Long> rebuilt = new ConcurrentHashMap<>();
        volatile Long switchMillis;
        volatile Instant finishedAt;
        volatile String error;

        final long rowsBeforeLogStart;
        final Map<Integer, Long> logStarts;

        Run(Replayable<?> model, long rowsBeforeLogStart, Map<Integer, Long> logStarts) {
            this.model = model;
            this.rowsBeforeLogStart = rowsBeforeLogStart;
            this.logStarts = new TreeMap<>(logStarts);
        }

        boolean running() {
            return state != State.DONE && state != State.FAILED;
        }

        void finish(State end, String failure) {
            error = failure;
            finishedAt = Instant.now();
            state = end;
        }

        RebuildStatus status() {
            return new RebuildStatus(model.readModel(), model.topic(), state, startedAt, finishedAt, replayed.get(),
                    invalid.get(), remaining, new TreeMap<>(live), new TreeMap<>(rebuilt), switchMillis, error,
                    rowsBeforeLogStart, logStarts);
        }
    }
}
