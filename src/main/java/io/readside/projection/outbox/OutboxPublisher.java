package io.readside.projection.outbox;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import io.readside.projection.tracing.BatchSpans;
import io.vertx.mutiny.pgclient.PgConnection;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * One outbox batch to the broker and back: reads the unpublished rows in id order (at most {@code batchSize} rows
 * and, past the first, {@code batchBytes} bytes; {@link RelayRows}), sends each row's record (one message) or records
 * (a projection's outputs for one topic, or messages of one type) with the trace context the row was written in (a
 * message with its {@code readside-outbox-id} header), until each is acknowledged (acks=all, idempotent, lz4) or
 * refused for good ({@link RelaySends}), parks the refused ones ({@link RelayParking}), and marks the rows published
 * (a row of one message with the partition and offset it landed at). The batch is one span
 * ({@link BatchSpans#published}). Meters: {@code readside.outbox.published} (rows), {@code readside.outbox.delay}
 * (commit to acknowledgement), {@code readside.outbox.oldest.unpublished.seconds}, {@code readside.outputs.parked}
 * (records, per topic). Runs on the relay's thread, with the connection that holds the relay's lock; created at start
 * and closed by {@link OutboxRelay}, and logs under its category.
 */
final class OutboxPublisher {

    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);

    private final String bootstrapServers;
    private final BooleanSupplier running;
    private KafkaProducer<byte[], byte[]> producer;
    private KafkaProducer<byte[], byte[]> oneByOne;
    private RelaySends sends;
    private final BatchSpans spans;
    private final MeterRegistry registry;
    private final int batchSize;
    private final int batchBytes;
    /** Fault injection for the delivery tests only: halt the JVM once this many rows are on the broker, unmarked. */
    private final Optional<Long> haltAfter;
    private final Counter published;
    private final Timer delay;
    private volatile long batchAwaitingBroker;
    /** A batch's sends ended without their outcome (the relay stopped or lost its lock): the producers may hold some. */
    private boolean sendsUnfinished;
    private long publishedTotal;

    OutboxPublisher(String bootstrapServers, MeterRegistry registry, BatchSpans spans, int batchSize,
            int batchBytes, BooleanSupplier running, Optional<Long> haltAfter) {
        this.bootstrapServers = bootstrapServers;
        this.running = running;
        this.spans = spans;
        this.registry = registry;
        this.batchSize = batchSize;
        this.batchBytes = batchBytes;
        this.haltAfter = haltAfter;
        published = Counter.builder("readside.outbox.published").description("Outbox rows published")
                .register(registry);
        delay = Timer.builder("readside.outbox.delay")
                .description("From an outbox row's commit to the broker's acknowledgement")
                .publishPercentileHistogram().register(registry);
        producers();
    }

    private void producers() {
        producer = producer(bootstrapServers, "readside-outbox-relay", 65536);
        oneByOne = producer(bootstrapServers, "readside-outbox-relay-one-by-one", 0);
        sends = new RelaySends(producer, oneByOne);
    }

    /** Drops what the producers hold (a failed batch's sends) at once, and makes new ones; nothing when none. */
    void abandon() {
        if (!sendsUnfinished) {
            return;
        }
        sendsUnfinished = false;
        closeBoth(Duration.ZERO);
        producers();
    }

    /**
     * acks=all, idempotent, lz4. {@code batchSize} 64 KiB: a batch's records are sent together and 5 ms gathers them
     * into one request per partition (a flush instead made the passes shorter and more of them: event time to visible
     * at 5,000 orders/s, p50 36.6 and 35.8 ms against 18.4 and 25.9, docs/benchmarks.md); 0: each record in a
     * request of its own ({@link RelaySends}).
     */
    private static KafkaProducer<byte[], byte[]> producer(String bootstrapServers, String clientId, int batchSize) {
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.CLIENT_ID_CONFIG, clientId,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4",
                ProducerConfig.LINGER_MS_CONFIG, batchSize == 0 ? 0 : 5,
                ProducerConfig.BATCH_SIZE_CONFIG, batchSize,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000),
                new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Waits up to 5 s for records in flight, then closes the producers. */
    void close() {
        closeBoth(Duration.ofSeconds(5));
    }

    /**
     * Closes both producers, also on an interrupted thread (the relay is stopped by an interrupt, which may also land
     * during the close): Kafka's close would throw, leaving the second producer open and the relay's session to the
     * process exit. The thread stays interrupted.
     */
    private void closeBoth(Duration timeout) {
        boolean interrupted = Thread.interrupted();
        for (KafkaProducer<byte[], byte[]> each : List.of(producer, oneByOne)) {
            try {
                each.close(timeout);
            } catch (InterruptException e) { // its wait cut short; Kafka closed it at once
                interrupted = true;
                Thread.interrupted();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The first outbox id of the batch whose acknowledgements the relay is waiting for; 0 when it is not waiting. */
    long batchAwaitingBroker() {
        return batchAwaitingBroker;
    }

    /**
     * Publishes one batch on {@code conn}, whose session holds the relay's lock; returns how many rows it published
     * (0: none waiting). Fails when the relay stops or the database fails before the mark (nothing is marked: the
     * batch is published again).
     */
    int publishHoldingTheLock(PgConnection conn) throws InterruptedException {
        RelayRows pass = RelayRows.next(conn, batchSize, batchBytes, HandedRows.WRITTEN);
        if (pass.rows().size() == 0) {
            return 0;
        }
        Span span = publishSpan(pass.rows());
        try (Scope current = span.makeCurrent(); BatchSpans.LogIds logIds = BatchSpans.logIds(span)) {
            return publish(conn, pass);
        } catch (RuntimeException | InterruptedException e) {
            span.recordException(e);
            span.setStatus(StatusCode.ERROR);
            throw e;
        } finally {
            span.end();
        }
    }

    /** {@code publish <topic>} (or {@code publish} when the rows go to several), linked to each row's trace. */
    private Span publishSpan(RowSet<Row> rows) {
        List<String> traceparents = new ArrayList<>(rows.size());
        String topic = null;
        boolean oneTopic = true;
        for (Row row : rows) {
            traceparents.add(row.getString("traceparent"));
            oneTopic &= topic == null || topic.equals(row.getString("topic"));
            topic = row.getString("topic");
        }
        return spans.published(oneTopic ? topic : null, traceparents);
    }

    private int publish(PgConnection conn, RelayRows pass) throws InterruptedException {
        int n = pass.rows().size();
        Long[] ids = new Long[n];
        List<Instant> created = new ArrayList<>(n);
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        List<RelayParking.Origin> origins = new ArrayList<>(); // per record: its row, and the entity it carries
        List<RelayParking.Unreadable> unreadable = new ArrayList<>();
        int[] messageRecord = new int[n]; // per row: the index of its record when it is one message, else -1
        int r = 0;
        for (Row row : pass.rows()) {
            ids[r] = row.getLong("id");
            created.add(row.getOffsetDateTime("created_at").toInstant());
            messageRecord[r] = RelayRows.batch(row) ? -1 : records.size();
            try {
                pass.records(row, records, origins);
            } catch (IllegalArgumentException e) {
                byte[] stored = pass.stored(row);
                unreadable.add(new RelayParking.Unreadable(ids[r], row.getString("topic"),
                        stored == null ? new byte[0] : stored, "undecodable outbox row: " + e.getMessage()));
            }
            r++;
        }
        RelaySends.Outcome outcome;
        batchAwaitingBroker = ids[0];
        try {
            // between attempts: is this still the relay? (its session, which holds the lock, may have ended)
            sendsUnfinished = true;
            outcome = sends.sendAll(records, () -> running.getAsBoolean() && holdsTheLock(conn));
            sendsUnfinished = false;
        } finally {
            batchAwaitingBroker = 0;
        }
        publishedTotal += n;
        if (haltAfter.isPresent() && publishedTotal >= haltAfter.get()) {
            LOG.warnf("fault injection: halting with %d rows on the broker and not marked published", n);
            Runtime.getRuntime().halt(99);
        }
        RelayParking.park(conn, records, origins, unreadable, outcome, registry);
        Integer[] partitions = new Integer[n];
        Long[] offsets = new Long[n];
        for (int i = 0; i < n; i++) {
            RecordMetadata at = messageRecord[i] < 0 ? null : outcome.acknowledged()[messageRecord[i]];
            partitions[i] = at == null ? null : at.partition();
            offsets[i] = at == null ? null : at.offset();
        }
        OutboxRelay.sql(conn.preparedQuery(OutboxRelay.MARK_PUBLISHED).execute(Tuple.of(ids, partitions, offsets)));
        Instant now = Instant.now();
        published.increment(n);
        for (Instant at : created) {
            delay.record(Duration.between(at, now).toNanos(), TimeUnit.NANOSECONDS);
        }
        return n;
    }

    /** The relay's session answers: it still holds the lock (a session's advisory lock ends only with it). */
    private static boolean holdsTheLock(PgConnection conn) {
        try {
            OutboxRelay.sql(conn.query("SELECT 1").execute());
            return true;
        } catch (RuntimeException e) {
            LOG.warnf("the relay's session no longer answers (%s): another relay may have taken over; abandoning the "
                    + "batch", e.toString());
            return false;
        }
    }
}
