package io.readside.projection;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import io.readside.values.Quote;
import io.vertx.pgclient.PgException;

/**
 * Applies one Kafka record to a read model at most once: the projection change and the position it came from
 * commit in one PostgreSQL transaction, and a record whose offset is below the stored position (a redelivery)
 * changes nothing. Every projector goes through here.
 */
@ApplicationScoped
public class RecordApplier {

    private static final Logger LOG = Logger.getLogger(RecordApplier.class);

    /**
     * Takes the record's offset for this transaction; returns a row only when the record was not applied before.
     * The row lock it takes also serialises two writers of the same partition.
     */
    public static final String CLAIM_OFFSET = """
            INSERT INTO projection_positions AS p (consumer_group, topic, kafka_partition, next_offset, updated_at)
            VALUES ($1, $2, $3, $4 + 1, now())
            ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE
                SET next_offset = EXCLUDED.next_offset, updated_at = EXCLUDED.updated_at
                WHERE p.next_offset <= $4
            RETURNING next_offset""";

    static final String ALREADY_HANDLED = """
            SELECT 1 FROM projection_positions
             WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3 AND next_offset > $4""";

    public enum Outcome {
        APPLIED, DUPLICATE, REJECTED
    }

    @Inject
    Pool pool;

    @Inject
    MeterRegistry registry;

    @Inject
    DeadLetters deadLetters;
    @Inject
    LogGuard guard;
    @Inject
    Config config;

    void registerMeters(@Observes StartupEvent event) {
        ProjectedChannels.of(config).forEach(consumed -> registerMeters(consumed.channel()));
    }

    /**
     * Applies {@code change} in one transaction with the record's position, retrying with back-off while the
     * database is unreachable (the record is not acknowledged meanwhile, so no offset moves past it).
     *
     * @return what {@code change} returned; null when the record was a redelivery or was rejected
     */
    public <T> Uni<T> applyOnce(String channel, String group, ConsumerRecord<?, ?> record,
            Function<SqlConnection, Uni<T>> change) {
        return applyOnce(channel, group, record, change, () -> Uni.createFrom().nullItem());
    }

    /**
     * As {@link #applyOnce(String, String, ConsumerRecord, Function)}; for a redelivery, returns what
     * {@code redelivered} returns instead (read after the fact, outside the transaction): a projector that publishes
     * after its commit uses it to publish again what a crash may have kept from the broker.
     */
    public <T> Uni<T> applyOnce(String channel, String group, ConsumerRecord<?, ?> record,
            Function<SqlConnection, Uni<T>> change, Supplier<Uni<T>> redelivered) {
        long start = System.nanoTime();
        return Uni.createFrom().voidItem().invoke(() -> guard.check(record.topic()))
                .chain(() -> pool.withTransaction(conn -> claim(conn, group, record)
                        .flatMap(claimed -> claimed
                                ? change.apply(conn).map(result -> new Applied<>(Outcome.APPLIED, result))
                                : Uni.createFrom().item(new Applied<T>(Outcome.DUPLICATE, null)))))
                // a redelivery, or the first records of a recreated topic? asked of the broker before acknowledging
                .flatMap(applied -> applied.outcome() != Outcome.DUPLICATE ? Uni.createFrom().item(applied)
                        : guard.confirm(record.topic()).chain(redelivered::get)
                                .map(result -> new Applied<>(Outcome.DUPLICATE, result)))
                .onFailure(RecordApplier::refusedData).recoverWithUni(e -> reject(channel, group, record,
                        new InvalidRecordException(InvalidRecordException.REJECTED_BY_DATABASE, e.getMessage(), e))
                        .map(counted -> new Applied<T>(Outcome.REJECTED, null)))
                .plug(uni -> retrying(channel, record, uni))
                .map(applied -> {
                    if (applied.outcome() != Outcome.REJECTED) { // reject() counts its own
                        count(channel, applied.outcome());
                    }
                    if (applied.outcome() == Outcome.APPLIED) {
                        timers(channel).observe(start, record.timestamp());
                    }
                    return applied.result();
                });
    }

    private record Applied<T>(Outcome outcome, T result) {
    }

    // --- batches: a projector that folds a whole poll into one transaction --------------------------------------

    static final String STORED_POSITIONS = """
            SELECT kafka_partition, next_offset FROM projection_positions
             WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = ANY($3)""";

    /**
     * Takes the offsets {@code first..next-1} of a partition for this transaction, provided nothing at or after
     * {@code first} was applied meanwhile (by a stale owner of the partition, say); returns the partition's stream
     * time before the batch (null if none).
     */
    static final String CLAIM_RANGE = """
            INSERT INTO projection_positions AS p (consumer_group, topic, kafka_partition, next_offset, updated_at)
            VALUES ($1, $2, $3, $5, now())
            ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE
                SET next_offset = EXCLUDED.next_offset, updated_at = EXCLUDED.updated_at
                WHERE p.next_offset <= $4
            RETURNING stream_time""";

    /** Another writer applied records of the batch first; the batch is read again from the stored positions. */
    public static final class PositionMovedException extends RuntimeException {
        PositionMovedException(String topic, int partition, long first) {
            super("position of " + topic + "-" + partition + " moved past " + first + " meanwhile");
        }
    }

    /** The next offset to apply of each of the partitions (absent: none applied yet). */
    public Uni<Map<Integer, Long>> storedPositions(String group, String topic, java.util.Collection<Integer> partitions) {
        return pool.preparedQuery(STORED_POSITIONS)
                .execute(Tuple.of(group, topic, partitions.toArray(new Integer[0])))
                .map(rows -> {
                    Map<Integer, Long> positions = new java.util.HashMap<>();
                    rows.forEach(row -> positions.put(row.getInteger(0), row.getLong(1)));
                    return positions;
                });
    }

    /** See {@link #CLAIM_RANGE}; fails with {@link PositionMovedException} if the position moved. */
    public static Uni<java.time.Instant> claimRange(SqlConnection conn, String group, String topic, int partition,
            long first, long next) {
        return conn.preparedQuery(CLAIM_RANGE).execute(Tuple.of(group, topic, partition, first, next))
                .map(rows -> {
                    if (rows.rowCount() != 1) {
                        throw new PositionMovedException(topic, partition, first);
                    }
                    java.time.OffsetDateTime streamTime = rows.iterator().next().getOffsetDateTime(0);
                    return streamTime == null ? null : streamTime.toInstant();
                });
    }

    /**
     * Marks a record handled whose dead letter was already sent (by a batch that then fell back to one record at a
     * time): its position moves (with its bytes kept in PostgreSQL if the letter did not carry them), and it is
     * counted and logged as rejected.
     */
    public Uni<Outcome> markRejected(String channel, String group, ConsumerRecord<?, ?> record,
            InvalidRecordException e, DeadLetters.Letter letter) {
        return Uni.createFrom().voidItem().invoke(() -> guard.check(record.topic()))
                .chain(() -> pool.withTransaction(conn -> claimAndSetAside(conn, group, record, e, letter)))
                .plug(uni -> retrying(channel, record, uni))
                .map(claimed -> setAside(channel, record, e, letter, claimed));
    }

    /** Claims the record's position and, when its letter did not carry it, keeps its bytes ({@link SetAside}). */
    private static Uni<Boolean> claimAndSetAside(SqlConnection conn, String group, ConsumerRecord<?, ?> record,
            InvalidRecordException e, DeadLetters.Letter letter) {
        return claim(conn, group, record).call(claimed -> claimed ? SetAside.store(conn, group, record, e, letter)
                : Uni.createFrom().voidItem());
    }

    /** A record whose position was just claimed is set aside; one claimed before is a redelivery. */
    private Outcome setAside(String channel, ConsumerRecord<?, ?> record, InvalidRecordException e,
            DeadLetters.Letter letter, boolean claimed) {
        if (!claimed) {
            return duplicate(channel);
        }
        rejected(channel, record, e, letter);
        return Outcome.REJECTED;
    }

    /**
     * Counts and logs a record set aside (its dead letter sent, its position moved); one whose letter did not carry
     * it (kept in PostgreSQL) is logged at ERROR and counted in {@code readside_records_set_aside_total}.
     */
    public void rejected(String channel, ConsumerRecord<?, ?> record, InvalidRecordException e,
            DeadLetters.Letter letter) {
        count(channel, Outcome.REJECTED);
        registry.counter("readside.records.rejected", "channel", channel, "reason", e.reason()).increment();
        try (RecordLogContext context = RecordLogContext.of(record)) {
            LOG.warnf("%s: rejected %s (%s): %s; key=%s value=%s", channel, where(record), e.reason(),
                    e.getMessage(), preview(record.key()), preview(record.value()));
            if (letter != null && letter.setAside()) {
                registry.counter("readside.records.set.aside", "channel", channel, "dead_letter",
                        letter.delivery().name().toLowerCase()).increment();
                LOG.errorf("%s: %s could not go to the dead-letter topic as it is (%s; sent: %s); its bytes are in "
                        + "table set_aside_records", channel, where(record), letter.error(),
                        letter.delivery() == DeadLetters.Delivery.STUB ? "a stub" : "nothing");
            }
        }
    }

    /** Counts records of a batch by outcome, and the latency of the applied ones. */
    public void counted(String channel, Outcome outcome, List<? extends ConsumerRecord<?, ?>> records, long startNanos) {
        if (records.isEmpty()) {
            return;
        }
        registry.counter("readside.records", "channel", channel, "outcome", outcome.name().toLowerCase())
                .increment(records.size());
        if (outcome == Outcome.APPLIED) {
            Timers timers = timers(channel);
            for (ConsumerRecord<?, ?> record : records) {
                timers.observe(startNanos, record.timestamp());
            }
        }
    }


    /**
     * Sets a record aside that cannot be applied: it goes to the dead-letter topic {@code <topic>.dlq} with the
     * reason, then its position moves (it is handled; a redelivery will not count it twice), and it is logged with
     * topic, partition and offset and counted by reason.
     */
    public Uni<Outcome> reject(String channel, String group, ConsumerRecord<?, ?> record, InvalidRecordException e) {
        // a redelivery of a record already set aside is not sent again; otherwise the dead letter goes first, so
        // that a crash before the position moves repeats it rather than losing it
        return Uni.createFrom().voidItem().invoke(() -> guard.check(record.topic()))
                .chain(() -> pool.preparedQuery(ALREADY_HANDLED).execute(Tuple.of(group, record.topic(),
                        record.partition(), record.offset())))
                .flatMap(handled -> handled.rowCount() > 0
                        ? guard.confirm(record.topic()).map(confirmed -> duplicate(channel))
                        : deadLetters.send(channel, record, e)
                                .flatMap(letter -> pool.withTransaction(
                                        conn -> claimAndSetAside(conn, group, record, e, letter))
                                        .map(claimed -> setAside(channel, record, e, letter, claimed))))
                .plug(uni -> retrying(channel, record, uni));
    }

    /** While the database fails, the record waits (unacknowledged, so no offset moves past it) and is tried again. */
    private <T> Uni<T> retrying(String channel, ConsumerRecord<?, ?> record, Uni<T> attempt) {
        return retrying(channel, where(record), record, attempt);
    }

    /** As {@link #retrying(String, ConsumerRecord, Uni)} for work on a batch. */
    public <T> Uni<T> retryingBatch(String channel, String what, Uni<T> attempt) {
        return retrying(channel, what, null, attempt);
    }

    private <T> Uni<T> retrying(String channel, String what, ConsumerRecord<?, ?> record, Uni<T> attempt) {
        return attempt
                .onFailure().invoke(e -> {
                    registry.counter("readside.apply.failures", "channel", channel, "reason",
                            e.getClass().getSimpleName()).increment();
                    try (RecordLogContext context = record == null ? null : RecordLogContext.of(record)) {
                        LOG.warnf("%s: applying %s failed, retrying: %s", channel, what, e.toString());
                    }
                })
                .onFailure().retry().withBackOff(Duration.ofMillis(200), Duration.ofSeconds(10)).indefinitely();
    }

    /** Per channel: how long an apply takes, and how old a record is when its change is committed. */
    private record Timers(Timer apply, Timer endToEnd) {
        void observe(long startNanos, long recordTimestamp) {
            apply.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
            if (recordTimestamp > 0) {
                endToEnd.record(Math.max(0, System.currentTimeMillis() - recordTimestamp), TimeUnit.MILLISECONDS);
            }
        }
    }

    private final Map<String, Timers> timers = new ConcurrentHashMap<>();

    private Timers timers(String channel) {
        return timers.computeIfAbsent(channel, c -> new Timers(
                Timer.builder("readside.apply.duration").tag("channel", c)
                        .description("The transaction that applied a record (a whole poll on a batch channel)")
                        .publishPercentileHistogram().register(registry),
                Timer.builder("readside.record.latency").tag("channel", c)
                        .description("From the record's timestamp to its change committed in the read model")
                        .publishPercentileHistogram().maximumExpectedValue(Duration.ofHours(1)).register(registry)));
    }

    /**
     * Every series of the record counters and timers of {@code channel}, at zero: an alert on {@code increase()} sees
     * the first rejected or set-aside record only if the series existed before it (Prometheus has no earlier sample
     * of a series that appears at 1), and a dashboard shows 0 rather than "no data".
     */
    public void registerMeters(String channel) {
        for (Outcome outcome : Outcome.values()) {
            registry.counter("readside.records", "channel", channel, "outcome", outcome.name().toLowerCase());
        }
        for (String reason : InvalidRecordException.REASONS) {
            registry.counter("readside.records.rejected", "channel", channel, "reason", reason);
        }
        for (DeadLetters.Delivery delivery : DeadLetters.Delivery.values()) {
            if (delivery != DeadLetters.Delivery.COPY) {
                registry.counter("readside.records.set.aside", "channel", channel, "dead_letter",
                        delivery.name().toLowerCase());
            }
        }
        timers(channel);
    }

    private void count(String channel, Outcome outcome) {
        registry.counter("readside.records", "channel", channel, "outcome", outcome.name().toLowerCase()).increment();
    }

    public static Uni<Boolean> claim(SqlConnection conn, String group, ConsumerRecord<?, ?> record) {
        return conn.preparedQuery(CLAIM_OFFSET)
                .execute(Tuple.of(group, record.topic(), record.partition(), record.offset()))
                .map(rows -> rows.rowCount() == 1);
    }

    /** SQLSTATE class 22 (data exception) or 23 (integrity): the record itself is at fault, retrying won't help. */
    public static boolean refusedData(Throwable e) {
        return e instanceof PgException pg && pg.getSqlState() != null
                && (pg.getSqlState().startsWith("22") || pg.getSqlState().startsWith("23"));
    }

    public static String where(ConsumerRecord<?, ?> record) {
        return record.topic() + "-" + record.partition() + "@" + record.offset();
    }

    private Outcome duplicate(String channel) {
        count(channel, Outcome.DUPLICATE);
        return Outcome.DUPLICATE;
    }

    /** A key or value for the log: {@link Quote}d (at most 40 characters, invisible ones escaped), with its size. */
    private static String preview(Object data) {
        if (data == null) {
            return "null";
        }
        byte[] bytes = DeadLetters.bytes(data);
        // decode only what the quote can show (a multi-byte character cut at the end shows as U+FFFD)
        String text = new String(bytes, 0, Math.min(bytes.length, 4 * (Quote.MAX_CHARS + 1)), StandardCharsets.UTF_8);
        return Quote.of(text) + " (" + bytes.length + " bytes)";
    }
}
