package io.readside.projection.outbox;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
import io.readside.projection.tracing.TraceHeaders;
import io.vertx.mutiny.pgclient.PgConnection;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * One outbox batch to the broker and back: reads the unpublished rows in id order (at most {@code batchSize} rows and,
 * past the first, {@code batchRecords} records), sends each row's record (a message: with its outbox id in the
 * {@code readside-outbox-id} header) or records (a projection's batch for one topic) with the trace context the row
 * was written in, until each is acknowledged (acks=all, idempotent, lz4) or refused for good ({@link RelaySends}),
 * parks the refused ones ({@link RelayParking}), and marks the rows published (a message's row with the partition
 * and offset it landed at). The batch is one span ({@link BatchSpans#published}). Meters:
 * {@code readside.outbox.published} (rows), {@code readside.outbox.delay} (commit to acknowledgement),
 * {@code readside.outbox.oldest.unpublished.seconds}, {@code readside.outputs.parked} (records, per topic). Runs on
 * the relay's thread, with the connection that holds the relay's lock; created at start and closed by
 * {@link OutboxRelay}, and logs under its category.
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
        RowSet<Row> rows = OutboxRelay.sql(conn.preparedQuery(OutboxRelay.UNPUBLISHED)
                .execute(Tuple.of(batchSize, batchBytes)));
        if (rows.size() == 0) {
            return 0;
        }
        Span span = publishSpan(rows);
        try (Scope current = span.makeCurrent(); BatchSpans.LogIds logIds = BatchSpans.logIds(span)) {
            return publish(conn, rows);
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

    private int publish(PgConnection conn, RowSet<Row> rows) throws InterruptedException {
        int n = rows.size();
        Long[] ids = new Long[n];
        List<Instant> created = new ArrayList<>(n);
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        List<RelayParking.Origin> origins = new ArrayList<>(); // per record: its row, and the entity it carries
        List<RelayParking.Unreadable> unreadable = new ArrayList<>();
        int[] messageRecord = new int[n]; // per row: the index of its record when it is one message, else -1
        int r = 0;
        for (Row row : rows) {
            ids[r] = row.getLong("id");
            created.add(row.getOffsetDateTime("created_at").toInstant());
            messageRecord[r] = row.getValue("records") == null ? records.size() : -1;
            try {
                records(row, records, origins);
            } catch (IllegalArgumentException e) {
                unreadable.add(new RelayParking.Unreadable(ids[r], row.getString("topic"),
                        row.getBuffer("records").getBytes(), "undecodable outbox row: " + e.getMessage()));
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

    /**
     * The row's records with the trace context it was written in: its message (topic, key and payload as UTF-8, its
     * outbox id in a header) or its batch of records for one topic (key and value as written), added to
     * {@code records}, and where each came from to {@code origins}.
     *
     * @throws IllegalArgumentException when the row's records cannot be read (nothing is added then)
     */
    private static void records(Row row, List<ProducerRecord<byte[], byte[]>> all,
            List<RelayParking.Origin> origins) {
        String topic = row.getString("topic");
        long id = row.getLong("id");
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        if (row.getValue("records") != null) {
            boolean supersedes = !Outbox.RESENT.equals(row.getString("event_type"));
            List<OutboxRecords.KeyValue> decoded = OutboxRecords.decode(row.getBuffer("records").getBytes());
            for (int i = 0; i < decoded.size(); i++) {
                OutboxRecords.KeyValue record = decoded.get(i);
                records.add(new ProducerRecord<>(topic, record.key(), record.value()));
                origins.add(new RelayParking.Origin(id, i, record.entity() != null ? record.entity() : record.key(),
                        supersedes));
            }
        } else {
            String key = row.getString("message_key");
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic,
                    key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                    row.getString("payload").getBytes(StandardCharsets.UTF_8));
            record.headers().add("readside-outbox-id",
                    Long.toString(row.getLong("id")).getBytes(StandardCharsets.UTF_8));
            records.add(record);
            origins.add(new RelayParking.Origin(id, 0, null, false)); // a command or event: no entity's state
        }
        // the trace context of what wrote the row, so that its consumer continues that trace
        String traceparent = row.getString("traceparent");
        if (traceparent != null) {
            String tracestate = row.getString("tracestate");
            for (ProducerRecord<byte[], byte[]> record : records) {
                record.headers().add(TraceHeaders.TRACEPARENT, traceparent.getBytes(StandardCharsets.US_ASCII));
                if (tracestate != null) {
                    record.headers().add(TraceHeaders.TRACESTATE, tracestate.getBytes(StandardCharsets.US_ASCII));
                }
            }
        }
        all.addAll(records);
    }
}
