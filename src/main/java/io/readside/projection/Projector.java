package io.readside.projection;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import io.opentelemetry.api.trace.Span;
import io.readside.projection.ProjectionMetrics.Outcome;
import io.readside.projection.outbox.Outbox;
import io.readside.projection.tracing.BatchSpans;
import io.readside.projection.tracing.TraceHeaders;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordBatchMetadata;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.pgclient.PgException;

/**
 * The projection engine: the one path by which a topic's records reach its read models. A poll (or a single record:
 * a batch of one) is parsed, its partitions' positions are locked and read in one PostgreSQL transaction, records
 * below them are redeliveries, invalid ones go to {@code <topic>.dlq} (and, when the letter could not carry them, to
 * {@code set_aside_records}), the valid ones are written by the {@link Changelog} with the partitions' stream time,
 * what they publish is written to the outbox (one row per topic), the positions move, the transaction commits once,
 * and the batch is acknowledged; the outbox relay publishes in commit order. A batch the database refuses
 * is applied again in two halves, down to the single record that is set aside. A failure of the database or broker
 * is retried with back-off (nothing is acknowledged meanwhile); a fenced log applies nothing until accepted.
 */
@ApplicationScoped
public class Projector {

    private static final Logger LOG = Logger.getLogger(Projector.class);

    @Inject
    Pool pool;
    @Inject
    DeadLetters deadLetters;
    @Inject
    LogGuard guard;
    @Inject
    BatchSpans spans;
    @Inject
    ProjectionMetrics metrics;
    @Inject
    PositionGaps gaps;

    /**
     * A poll of a batch channel whose acknowledgement is the engine's: the returned {@code Uni} completes once the
     * poll is committed (its outputs with it, in the outbox) and acknowledged. While it runs, {@link #inFlight} says
     * so, for a rebalance to wait on it.
     */
    public <E> Uni<Void> apply(Changelog<E> log, KafkaRecordBatch<byte[], byte[]> batch) {
        ConsumerRecords<byte[], byte[]> polled = batch.getMetadata(IncomingKafkaRecordBatchMetadata.class)
                .orElseThrow(() -> new IllegalStateException(log.channel() + " is not a Kafka batch channel"))
                .getRecords();
        CompletableFuture<Void> done = inFlight.begin(polled.partitions());
        GapTrust.Began began = gaps.began(); // as the poll is handed over, not once its loop gets to it
        return loops.onOwnLoop(log.channel(), () -> commit(log, inOrder(polled), began)) // a throw ends it too
                .chain(() -> Uni.createFrom().completionStage(batch.ack()))
                .onTermination().invoke(() -> done.complete(null));
    }

    /** The event loops of the batch channels' consumers: one each while there are enough. */
    private final ConsumerLoops loops = new ConsumerLoops();

    /** How many event loops the batch channels' consumers have applied polls on. */
    public int consumerLoops() {
        return loops.loops();
    }

    /** Per partition of a batch channel: the poll being applied (one per consumer of the channel). */
    private final PollsInFlight inFlight = new PollsInFlight();

    /**
     * Waits at most {@code bound} for the polls being applied from {@code partitions} to commit (a rebalance revokes
     * them), so that the new owner finds their positions moved instead of waiting on their position locks; what
     * did not commit by then is left to its transaction (the new owner's position lock waits for it). The offsets of a
     * revoked partition are not committed by this wait (SmallRye's commit handler lets go of them first): the new owner
     * resumes at the stored position ({@link PositionSeeker}).
     *
     * @return false when the bound was reached first
     */
    public boolean awaitInFlight(Collection<TopicPartition> partitions, Duration bound) {
        return inFlight.await(partitions, bound);
    }

    /** A single record: a batch of one; completes when it is committed, its outputs with it. */
    public <E> Uni<Void> apply(Changelog<E> log, ConsumerRecord<byte[], byte[]> record) {
        return commit(log, List.of(record), gaps.began());
    }

    private static List<ConsumerRecord<byte[], byte[]>> inOrder(ConsumerRecords<byte[], byte[]> polled) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>(polled.count());
        for (TopicPartition partition : polled.partitions()) {
            records.addAll(polled.records(partition));
        }
        return records;
    }

    /**
     * Commits the records (retried until it can; halved when the database refuses them); {@code began}: what the
     * batch took from the gaps' bookkeeping when it began ({@link GapTrust.Began}).
     */
    private <E> Uni<Void> commit(Changelog<E> log, List<ConsumerRecord<byte[], byte[]>> records,
            GapTrust.Began began) {
        if (records.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        Map<String, List<ConsumerRecord<byte[], byte[]>>> byTopic = new LinkedHashMap<>();
        records.forEach(record -> byTopic.computeIfAbsent(record.topic(), t -> new ArrayList<>()).add(record));
        if (byTopic.size() > 1) { // a channel on several topics: each topic's records are a batch of their own
            Uni<Void> all = Uni.createFrom().voidItem();
            for (List<ConsumerRecord<byte[], byte[]>> ofTopic : byTopic.values()) {
                all = all.chain(() -> commit(log, ofTopic, began));
            }
            return all;
        }
        // one span for the poll, linked to each record's trace (the child of it, for a batch of one)
        Span span = spans.consumed(records.get(0).topic(), log.group(), records);
        // kept across retries and halves: a dead letter is sent once per delivery
        Map<String, DeadLetters.Letter> deadLettered = new HashMap<>();
        return BatchSpans.ended(commitOrHalve(log, records, deadLettered, span, began), span);
    }

    private <E> Uni<Void> commitOrHalve(Changelog<E> log, List<ConsumerRecord<byte[], byte[]>> records,
            Map<String, DeadLetters.Letter> deadLettered, Span span, GapTrust.Began began) {
        Uni<Void> attempt = Uni.createFrom()
                .deferred(() -> attempt(log, records, null, deadLettered, span, new boolean[1], began))
                .onFailure(Projector::refusedData).recoverWithUni(e -> {
                    if (records.size() == 1) { // this record is what the database refuses: it is set aside
                        InvalidRecordException refused = new InvalidRecordException(
                                InvalidRecordException.REJECTED_BY_DATABASE, e.getMessage(), e);
                        return Uni.createFrom()
                                .deferred(() -> attempt(log, records, refused, deadLettered, span, new boolean[1],
                                        began));
                    }
                    try (BatchSpans.LogIds logIds = BatchSpans.logIds(span)) {
                        LOG.warnf("%s: batch of %d refused by the database (%s); applying it in two halves",
                                log.channel(), records.size(), e.getMessage());
                    }
                    int half = records.size() / 2;
                    return commitOrHalve(log, records.subList(0, half), deadLettered, span, began)
                            .chain(() -> commitOrHalve(log, records.subList(half, records.size()), deadLettered,
                                    span, began));
                });
        String what = records.size() == 1 ? ProjectionMetrics.where(records.get(0))
                : "a batch of " + records.size() + " records";
        return attempt.onFailure().invoke(e -> metrics.failed(log.channel(), what, e))
                .onFailure().retry().withBackOff(Duration.ofMillis(200), Duration.ofSeconds(10)).indefinitely();
    }

    /**
     * One transaction for the records ({@code refused}: the one record, set aside as the database refused it); once
     * committed, they are counted. What the read models publish is written to the outbox in the same transaction.
     * The broker is never asked while the transaction holds the position rows: when the transaction finds something
     * to ask (records below the position, a gap to read), it ends without a change, the broker is asked, and the
     * transaction runs again ({@link BrokerFirst}). {@code logConfirmed[0]}: the broker confirmed, for this batch,
     * that the log is the one of the positions.
     */
    private <E> Uni<Void> attempt(Changelog<E> log, List<ConsumerRecord<byte[], byte[]>> records,
            InvalidRecordException refused, Map<String, DeadLetters.Letter> deadLettered, Span span,
            boolean[] logConfirmed, GapTrust.Began began) {
        String topic = records.get(0).topic(); // the positions are the records' (the same topic throughout)
        guard.check(topic); // a fenced log: nothing is applied, set aside or counted (retried until accepted)
        long start = System.nanoTime();
        List<Parsed<E>> parsed = Parsed.all(log, records, refused);
        // dead letters (and the broker's word on redeliveries) before the transaction: a slow broker must not keep
        // the position rows locked (a rebuild's switch and accept-new-log wait on them); the transaction repeats the
        // sort and sends only what this missed (a position that moved meanwhile)
        Uni<Void> before = parsed.stream().noneMatch(each -> each.invalid() != null) ? Uni.createFrom().voidItem()
                : Positions.read(pool, log.group(), topic, partitions(records)).flatMap(stored -> {
                    Sorted<E> sorted = new Sorted<>(log, parsed, stored);
                    return confirmOnce(topic, sorted, logConfirmed)
                            .chain(() -> deadLetters.sendOnce(log.channel(), sorted.invalid, deadLettered));
                });
        return before.chain(() -> spans.transaction(span, log.channel() + " transaction", () -> pool.withTransaction(conn -> Positions
                .lock(conn, log.group(), topic, partitions(records))
                .flatMap(stored -> {
                    Sorted<E> sorted = new Sorted<>(log, parsed, stored);
                    BrokerFirst.ifNeeded(log.group(), topic, sorted, logConfirmed[0], gaps, began);
                    return deadLetters.sendOnce(log.channel(), sorted.invalid, deadLettered)
                            .chain(() -> write(conn, log, topic, sorted, true, TraceHeaders.of(span)))
                            .call(committed -> Outbox.addRecords(conn, committed.outputs(), TraceHeaders.of(span)))
                            .call(() -> SetAside.storeAll(conn, log.group(), sorted.invalid, deadLettered))
                            .map(committed -> new Done<>(sorted, committed));
                }))))
                .invoke(done -> {
                    Sorted<E> sorted = done.sorted();
                    gaps.committed(log.group(), topic, sorted.ranges, sorted.gaps, began);
                    metrics.counted(log.channel(), Outcome.APPLIED, sorted.validRecords(), start);
                    metrics.counted(log.channel(), Outcome.DUPLICATE, sorted.redeliveredRecords(), start);
                    sorted.invalid.forEach((record, e) -> metrics.rejected(log.channel(), record, e,
                            deadLettered.get(ProjectionMetrics.where(record))));
                    done.committed().counted().forEach(Runnable::run);
                }).replaceWithVoid()
                .onFailure(BrokerFirst.class).recoverWithUni(e -> {
                    BrokerFirst first = (BrokerFirst) e;
                    Uni<Void> asked = first.confirm ? confirmOnce(topic, null, logConfirmed) : Uni.createFrom().voidItem();
                    for (PositionGaps.Gap gap : first.fills) {
                        asked = asked.chain(() -> gaps.fill(gap, chunk -> commit(log, chunk, began)));
                    }
                    return asked.chain(() -> attempt(log, records, refused, deadLettered, span, logConfirmed,
                            began));
                });
    }

    /**
     * Asks the broker, once per batch, whether this is still the log the positions came from, when the batch holds
     * records below them ({@code sorted} null: it does): parsed or not, they are acknowledged without being applied,
     * and a recreated topic's first records look exactly like them.
     */
    private <E> Uni<Void> confirmOnce(String topic, Sorted<E> sorted, boolean[] logConfirmed) {
        if (logConfirmed[0] || sorted != null && sorted.redeliveredRecords.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return guard.confirm(topic).invoke(() -> logConfirmed[0] = true);
    }

    private record Done<E>(Sorted<E> sorted, Committed committed) {
    }

    /**
     * Replays records into a rebuild's shadow tables ({@code conn}'s transaction, its search path the shadow
     * schema): the same positions, stream time and writes as live, without locks, dead letters or publishing.
     *
     * @return how many of the records were valid (the others were set aside by the live pass)
     */
    public <E> Uni<Long> replay(Changelog<E> log, SqlConnection conn, List<ConsumerRecord<byte[], byte[]>> records) {
        if (records.isEmpty()) {
            return Uni.createFrom().item(0L);
        }
        List<Parsed<E>> parsed = Parsed.all(log, records, null);
        String topic = records.get(0).topic();
        return Positions.lock(conn, log.group(), topic, partitions(records))
                .flatMap(stored -> {
                    Sorted<E> sorted = new Sorted<>(log, parsed, stored);
                    return write(conn, log, topic, sorted, false, null)
                            .map(committed -> (long) (records.size() - sorted.invalid.size()));
                });
    }

    /** Moves a rebuild's position past a record the database refuses, as the live pass set it aside. */
    public <E> Uni<Void> skip(Changelog<E> log, SqlConnection conn, ConsumerRecord<byte[], byte[]> record) {
        List<Parsed<E>> parsed = Parsed.all(log, List.of(record), new InvalidRecordException(
                InvalidRecordException.REJECTED_BY_DATABASE, "refused by the database"));
        return Positions.lock(conn, log.group(), record.topic(), List.of(record.partition()))
                .flatMap(stored -> write(conn, log, record.topic(), new Sorted<>(log, parsed, stored), false, null))
                .replaceWithVoid();
    }

    /** Claims the fresh records' positions, writes the valid ones (split around those written alone), moves time. */
    private <E> Uni<Committed> write(SqlConnection conn, Changelog<E> log, String topic, Sorted<E> sorted,
            boolean live, TraceHeaders trace) {
        Uni<Void> claimed = sorted.ranges.isEmpty() ? Uni.createFrom().voidItem()
                : Positions.claim(conn, log.group(), topic, sorted.ranges);
        Instant processedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        List<Committed> parts = new ArrayList<>();
        Uni<Void> written = claimed.chain(() -> InTurn.each(sorted.segments(log),
                segment -> log.write(conn, new Batch<>(segment, live, processedAt, trace)).invoke(parts::add)));
        Map<Integer, Instant> moved = sorted.streamTimesMoved();
        if (!moved.isEmpty()) {
            written = written.chain(() -> Positions.advanceStreamTimes(conn, log.group(), topic, moved));
        }
        return written.map(done -> Committed.all(parts));
    }

    private static TreeSet<Integer> partitions(List<ConsumerRecord<byte[], byte[]>> records) {
        TreeSet<Integer> partitions = new TreeSet<>();
        records.forEach(record -> partitions.add(record.partition()));
        return partitions;
    }

    /** SQLSTATE class 22 (data exception) or 23 (integrity): the record itself is at fault, retrying won't help. */
    public static boolean refusedData(Throwable e) {
        return e instanceof PgException pg && pg.getSqlState() != null
                && (pg.getSqlState().startsWith("22") || pg.getSqlState().startsWith("23"));
    }
}
