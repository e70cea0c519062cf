package io.readside.commands.outbox;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
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
 * One outbox batch to the broker and back: reads the unpublished rows (at most {@code batchSize}, in id order), sends
 * each to its topic with its key, its outbox id ({@code readside-outbox-id} header) and the trace context it was
 * written in, waits for every acknowledgement (acks=all, idempotent, lz4), and marks the rows published with the
 * partition and offset each landed at. The batch is one span ({@link BatchSpans#published}). Meters:
 * {@code readside.outbox.published} (rows), {@code readside.outbox.delay} (commit to acknowledgement),
 * {@code readside.outbox.oldest.unpublished.seconds}. Runs on the relay's thread, with the connection that holds
 * the relay's lock; created at start and closed by {@link OutboxRelay}, and logs under its category.
 */
final class OutboxPublisher {

    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);

    private final KafkaProducer<String, byte[]> producer;
    private final BatchSpans spans;
    private final int batchSize;
    /** Fault injection for the delivery tests only: halt the JVM once this many rows are on the broker, unmarked. */
    private final Optional<Long> haltAfter;
    private final AtomicLong oldestUnpublishedMillis = new AtomicLong();
    private final Counter published;
    private final Timer delay;
    private volatile long batchAwaitingBroker;
    private long publishedTotal;

    OutboxPublisher(String bootstrapServers, MeterRegistry registry, BatchSpans spans, int batchSize,
            Optional<Long> haltAfter) {
        this.spans = spans;
        this.batchSize = batchSize;
        this.haltAfter = haltAfter;
        published = Counter.builder("readside.outbox.published").description("Outbox rows published")
                .register(registry);
        delay = Timer.builder("readside.outbox.delay")
                .description("From an outbox row's commit to the broker's acknowledgement")
                .publishPercentileHistogram().register(registry);
        Gauge.builder("readside.outbox.oldest.unpublished.seconds", oldestUnpublishedMillis, ms -> ms.get() / 1000.0)
                .description("Age of the oldest outbox row not yet published (0: none)").register(registry);
        producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.CLIENT_ID_CONFIG, "readside-outbox-relay",
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4",
                ProducerConfig.LINGER_MS_CONFIG, 1,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000),
                new StringSerializer(), new ByteArraySerializer());
    }

    /** Waits up to 5 s for records in flight, then closes the producer. */
    void close() {
        producer.close(Duration.ofSeconds(5));
    }

    /** The first outbox id of the batch whose acknowledgements the relay is waiting for; 0 when it is not waiting. */
    long batchAwaitingBroker() {
        return batchAwaitingBroker;
    }

    /**
     * Publishes one batch on {@code conn}, whose session holds the relay's lock; returns how many rows it published
     * (0: none waiting). Fails when the broker did not take a row (nothing is marked: the batch is published again).
     */
    int publishHoldingTheLock(PgConnection conn) throws InterruptedException {
        RowSet<Row> rows = OutboxRelay.sql(conn.preparedQuery(OutboxRelay.UNPUBLISHED).execute(Tuple.of(batchSize)));
        if (rows.size() == 0) {
            oldestUnpublishedMillis.set(0);
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
        List<Long> ids = new ArrayList<>(rows.size());
        List<Instant> created = new ArrayList<>(rows.size());
        List<Future<RecordMetadata>> sends = new ArrayList<>(rows.size());
        Integer[] partitions = new Integer[rows.size()];
        Long[] offsets = new Long[rows.size()];
        batchAwaitingBroker = rows.iterator().next().getLong("id");
        try {
            for (Row row : rows) {
                ids.add(row.getLong("id"));
                created.add(row.getOffsetDateTime("created_at").toInstant());
                sends.add(producer.send(record(row)));
            }
            oldestUnpublishedMillis.set(Math.max(0, System.currentTimeMillis() - created.get(0).toEpochMilli()));
            for (int i = 0; i < sends.size(); i++) {
                RecordMetadata at = acknowledged(sends.get(i));
                partitions[i] = at.partition();
                offsets[i] = at.offset();
            }
        } finally {
            batchAwaitingBroker = 0;
        }
        publishedTotal += ids.size();
        if (haltAfter.isPresent() && publishedTotal >= haltAfter.get()) {
            LOG.warnf("fault injection: halting with %d rows on the broker and not marked published", ids.size());
            Runtime.getRuntime().halt(99);
        }
        OutboxRelay.sql(conn.preparedQuery(OutboxRelay.MARK_PUBLISHED)
                .execute(Tuple.of(ids.toArray(new Long[0]), partitions, offsets)));
        Instant now = Instant.now();
        published.increment(ids.size());
        for (Instant at : created) {
            delay.record(Duration.between(at, now).toNanos(), TimeUnit.NANOSECONDS);
        }
        return ids.size();
    }

    /** The row's record: its topic, key and payload (UTF-8), its outbox id, and the trace context it was written in. */
    private static ProducerRecord<String, byte[]> record(Row row) {
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(row.getString("topic"),
                row.getString("message_key"), row.getString("payload").getBytes(StandardCharsets.UTF_8));
        record.headers().add("readside-outbox-id", Long.toString(row.getLong("id")).getBytes(StandardCharsets.UTF_8));
        // the trace context of the command that wrote the row, so that its consumer continues that trace
        String traceparent = row.getString("traceparent");
        if (traceparent != null) {
            record.headers().add(TraceHeaders.TRACEPARENT, traceparent.getBytes(StandardCharsets.US_ASCII));
            String tracestate = row.getString("tracestate");
            if (tracestate != null) {
                record.headers().add(TraceHeaders.TRACESTATE, tracestate.getBytes(StandardCharsets.US_ASCII));
            }
        }
        return record;
    }

    private static RecordMetadata acknowledged(Future<RecordMetadata> send) throws InterruptedException {
        try {
            return send.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("the broker did not take an outbox row", e.getCause());
        }
    }
}
