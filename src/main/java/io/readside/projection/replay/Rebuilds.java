package io.readside.projection.replay;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.quarkus.runtime.StartupEvent;
import io.readside.projection.AdvisoryLocks;
import io.readside.projection.LogGuard;
import io.readside.projection.Projector;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Rebuilds a read model from the earliest retained offset of its topic while the live one keeps answering: the
 * records are replayed by the read model's own projector into shadow tables (schema {@value #SHADOW}, laid out by
 * the same Flyway migrations), never beyond the live positions; then, with the live writers of that topic held on
 * their position rows, the shadow catches up to the last live position and the tables are swapped in one
 * transaction. Queries read the old tables until that commit and the new ones after it.
 *
 * <p>One rebuild at a time across all instances (a PostgreSQL advisory lock); its progress is kept in PostgreSQL,
 * where every instance reads it ({@code GET /admin/rebuilds/{readModel}}); the gauges {@code readside_rebuild_*} are
 * those of the instance that runs it.
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

    /** A rebuild would lose rows the topic no longer holds, and the request did not accept that. */
    public static final class HistoryLossException extends IllegalStateException {
        public HistoryLossException(String message) {
            super(message);
        }
    }

    public enum State {
        PREPARING, REPLAYING, SWITCHING, DONE, FAILED;
        public boolean running() {
            return this != DONE && this != FAILED;
        }
    }

    /**
     * What {@code GET /admin/rebuilds/{readModel}} answers, on every instance. Offsets per partition: the next record
     * to apply. {@code instance} runs (or ran) it; {@code updatedAt} is when it last wrote its progress;
     * {@code abandoned}: it stopped before the run ended (state FAILED, {@code error} says so).
     */
    public record RebuildStatus(String readModel, String topic, State state, Instant startedAt, Instant finishedAt,
            long replayedRecords, long invalidRecords, long remainingRecords, Map<Integer, Long> liveOffsets,
            Map<Integer, Long> rebuiltOffsets, Long switchMillis, String error, long rowsBeforeLogStart,
            Map<Integer, Long> logStartOffsets, String instance, Instant updatedAt, boolean abandoned) {
    }

    @Inject
    Pool pool;
    @Inject
    Instance<Replayable<?>> readModels;
    @Inject
    Projector engine;
    @Inject
    ShadowSchema shadow;
    @Inject
    RetainedHistory history;
    @Inject
    RebuildRunner runner;
    @Inject
    LogGuard guard;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    /** Every read model a rebuild can be asked for: each changelog, and the read models derived from it alone. */
    public List<String> readModelNames() {
        return rebuildable().map(Replayable::readModel).sorted().toList();
    }

    /** A rebuild is asked for by name: two read models of one name would make the request mean either. */
    void namesOfTheirOwn(@Observes StartupEvent start) {
        List<String> names = readModelNames();
        if (names.stream().distinct().count() < names.size()) {
            throw new IllegalStateException("read models need names of their own: " + names);
        }
    }

    private Stream<Replayable<?>> rebuildable() {
        return readModels.stream().flatMap(model -> Stream.concat(Stream.of(model), model.parts().stream()));
    }

    /** The topics read models are projected from (and that dead letters may be re-published to). */
    public List<String> topics() {
        return readModels.stream().map(Replayable::topic).sorted().toList();
    }

    /** The latest rebuild of the read model, run by any instance; empty when none is recorded. */
    public Optional<RebuildStatus> status(String readModel) {
        return runner.latest(readModel);
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
        Replayable<?> model = rebuildable().filter(m -> m.readModel().equals(readModel)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(readModel));
        if (guard.verify(model.topic()) != LogGuard.Verdict.SAME) {
            throw new IllegalStateException("topic " + model.topic() + " is fenced, or its log could not be checked: "
                    + "a rebuild needs the log the live read model came from (accept the new log first)");
        }
        Map<Integer, Long> logStarts = history.logStarts(model.topic());
        long lost = history.rowsBeforeLogStart(model, logStarts);
        RetainedHistory.refusal(model.topic(), model.readModel(), model.entityTable(), model.derivedFrom(), lost,
                logStarts, acceptHistoryLoss).ifPresent(why -> {
                    throw new HistoryLossException(why);
                });
        return runner.launch(model, lost, logStarts, this::rebuild).status();
    }

    private void rebuild(Run run) {
        Replayable<?> model = run.model;
        LOG.infof("rebuild of %s from topic %s: started", model.readModel(), model.topic());
        shadow.prepare();
        try (KafkaConsumer<byte[], byte[]> consumer = ReplayConsumer.create(bootstrapServers)) {
            List<TopicPartition> partitions = consumer.partitionsFor(model.topic()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            run.enter(State.REPLAYING);
            while (true) {
                run.live = positions(pool, LIVE_POSITIONS, model);
                if (!run.rebuilt.keySet().containsAll(run.live.keySet())) { // a partition added since the start
                    partitionsNow(consumer, model.topic());
                }
                replayUpTo(consumer, run, run.live);
                if (behind(positions(pool, LIVE_POSITIONS, model), run.rebuilt) <= SWITCH_WHEN_BEHIND) {
                    break;
                }
            }
            // the bulk of the carry-over before the writers are held; the switch redoes only what was replayed since
            String schema = ShadowSchema.identifier(pool.query("SELECT current_schema()").execute().await().indefinitely()
                    .iterator().next().getString(0));
            Instant carriedOver = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
            pool.withConnection(conn -> model.carryOver(conn, schema, SHADOW, null)).await().indefinitely();
            run.enter(State.SWITCHING);
            // the log may have been recreated (or its new log accepted) while the replay ran: never swap in a shadow
            // built from another log than the live read model's
            if (guard.verify(model.topic()) != LogGuard.Verdict.SAME) {
                throw new IllegalStateException("topic " + model.topic() + " was fenced, or could not be checked, "
                        + "during the rebuild; the live read model is left as it was");
            }
            shadow.switchOver(run, carriedOver, () -> partitionsNow(consumer, model.topic()),
                    live -> replayUpTo(consumer, run, live));
        }
        shadow.drop();
        LOG.infof("rebuild of %s: done, %d records replayed (%d invalid), switch held writers for %d ms",
                model.readModel(), run.replayed.get(), run.invalid.get(), run.switchMillis);
    }

    /** The topic's partitions as the broker has them now; those added since the start are replayed from their start. */
    private java.util.Set<Integer> partitionsNow(KafkaConsumer<byte[], byte[]> consumer, String topic) {
        java.util.Set<Integer> partitions = history.logStarts(topic).keySet();
        List<TopicPartition> assigned = new ArrayList<>(consumer.assignment());
        List<TopicPartition> added = partitions.stream().map(p -> new TopicPartition(topic, p)).filter(p -> !assigned.contains(p)).toList();
        if (!added.isEmpty()) { // (seekToBeginning of none seeks every partition)
            assigned.addAll(added);
            consumer.assign(assigned);
            consumer.seekToBeginning(added);
            LOG.infof("rebuild of %s: partitions added during the rebuild, replayed too: %s", topic, added);
        }
        return partitions;
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

    /** The model's positions that {@code sql} selects (partition -> next offset), with the model's group and topic. */
    static Map<Integer, Long> positions(io.vertx.mutiny.sqlclient.SqlClient client, String sql, Replayable<?> model) {
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
}
