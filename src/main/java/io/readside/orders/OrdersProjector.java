package io.readside.orders;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.Objects;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.trace.Span;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.readside.commands.saga.PaymentSaga;
import io.readside.commands.saga.SagaStep;
import io.readside.projection.DeadLetters;
import io.readside.projection.ExactJson;
import io.readside.projection.SetAside;
import io.readside.projection.InvalidRecordException;
import io.readside.projection.LogGuard;
import io.readside.projection.RecordApplier;
import io.readside.projection.RecordLogContext;
import io.readside.projection.replay.Replayable;
import io.readside.projection.tracing.BatchSpans;
import io.readside.projection.tracing.TraceHeaders;
import io.readside.revenue.RevenueProjector;
import io.readside.revenue.RevenueProjector.WindowState;
import io.readside.revenue.RevenueWindows;
import io.readside.users.UserOrderTotalsProjector;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Projects topic {@code orders} into table {@code orders} and, in the same transaction, into the read models that
 * orders feed ({@code revenue_windows} through {@link RevenueProjector}, the users' order totals through
 * {@link UserOrderTotalsProjector}). A new record for a known order id is the same order: every aggregate moves by
 * the difference. A new order's payment request goes into the outbox in the same transaction (the payment saga,
 * {@link PaymentSaga}); a cancel request is a saga step. After the commit, the enriched order goes to
 * {@code processed-orders} and each changed window to {@code revenue-by-category}; the record is acknowledged once
 * the broker has both. A redelivered record that is still the order's latest version is published again, so a crash
 * between commit and publish loses nothing. A poll is one span, linked to the trace of each record that carries a
 * {@code traceparent} ({@link BatchSpans#consumed}); its transaction is a child span, and the payment requests it
 * writes carry its trace context on.
 */
@ApplicationScoped
public class OrdersProjector implements Replayable {

    private static final Logger LOG = Logger.getLogger(OrdersProjector.class);

    public static final String CHANNEL = "orders";
    public static final String PROCESSED_ORDERS = "processed-orders";
    public static final String REVENUE_BY_CATEGORY = "revenue-by-category";

    static final String ADVANCE_STREAM_TIME = """
            UPDATE projection_positions SET stream_time = GREATEST(stream_time, $4)
             WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3
            RETURNING stream_time""";

    /**
     * Serialises the versions of one order across partitions (and instances): a transaction-scoped advisory lock per
     * order id, taken in one order (the ids' hashes, sorted) so that two live batches cannot deadlock. Without it,
     * two versions of a new order on two partitions (keys hash differently once partitions are added) would both see
     * "no previous version" and both count the order. Whichever commits last is the order's version. The two-key form
     * keeps these locks in a space of their own ({@link #ORDER_LOCKS}), apart from the single-key locks of rebuilds
     * and the outbox relay, so that no order id, however chosen, can collide with them. A rebuild's replay takes no
     * such lock: the shadow tables have one writer.
     */
    static final String LOCK_ORDER_IDS = """
            SELECT pg_advisory_xact_lock($2, k)
              FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest($1::text[]) AS id ORDER BY k) AS ids""";
    /** The class of the order-id advisory locks ("ORDR"). */
    static final int ORDER_LOCKS = 0x4f524452;

    static final String PREVIOUS_VERSION = """
            SELECT user_id, category, total, item_count, created_at, window_category, window_start, window_amount
              FROM orders WHERE order_id = $1
               FOR UPDATE""";

    /** The order as last applied from exactly this record, with the window its revenue is in now. */
    static final String LATEST_VERSION = """
            SELECT o.processed_at, w.category, w.window_start, w.window_end, w.revenue, w.order_count
              FROM orders o
              LEFT JOIN revenue_windows w ON w.category = o.window_category AND w.window_start = o.window_start
             WHERE o.order_id = $1 AND o.source_partition = $2 AND o.source_offset = $3""";

    /** A known order becomes the new version; its status (the saga's) is kept. */
    static final String REPLACE_VERSION = """
            ON CONFLICT (order_id) DO UPDATE
                SET user_id = EXCLUDED.user_id, category = EXCLUDED.category, total = EXCLUDED.total,
                    item_count = EXCLUDED.item_count, created_at = EXCLUDED.created_at,
                    processed_at = EXCLUDED.processed_at, window_category = EXCLUDED.window_category,
                    window_start = EXCLUDED.window_start, window_amount = EXCLUDED.window_amount,
                    source_partition = EXCLUDED.source_partition, source_offset = EXCLUDED.source_offset""";

    static final String UPSERT = """
            INSERT INTO orders AS o (order_id, user_id, category, total, item_count, created_at, status, processed_at,
                                     window_category, window_start, window_amount, source_partition, source_offset,
                                     payment_requested_at, status_changed_at)
            VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $8, $9, $10, $11, $12, $7, $7)
            """ + REPLACE_VERSION;

    @Inject
    RecordApplier applier;
    @Inject
    DeadLetters deadLetters;
    @Inject
    Pool pool;
    @Inject
    RevenueProjector revenue;
    @Inject
    UserOrderTotalsProjector userTotals;
    @Inject
    MeterRegistry registry;
    @Inject
    ObjectMapper mapper;
    @Inject
    PaymentSaga saga;
    @Inject
    LogGuard guard;
    @Inject
    BatchSpans spans;

    @Inject
    @Channel(PROCESSED_ORDERS)
    MutinyEmitter<byte[]> processedOrders;
    @Inject
    @Channel(REVENUE_BY_CATEGORY)
    MutinyEmitter<String> revenueByCategory;

    @ConfigProperty(name = "mp.messaging.incoming." + CHANNEL + ".group.id")
    String group;
    @ConfigProperty(name = "mp.messaging.incoming." + CHANNEL + ".topic")
    String topic;
    @ConfigProperty(name = "readside.revenue.window-size")
    Duration windowSize;
    @ConfigProperty(name = "readside.revenue.grace")
    Duration grace;
    @ConfigProperty(name = "readside.orders.max-total")
    BigDecimal maxTotal;
    @ConfigProperty(name = "readside.orders.max-clock-skew")
    Duration maxClockSkew;

    private RevenueWindows windows;

    @PostConstruct
    void init() {
        windows = new RevenueWindows(windowSize, grace);
    }

    /** At zero from the start (see RecordApplier.registerMeters). */
    void registerMeters(@Observes StartupEvent start) {
        registry.counter("readside.orders.late");
    }

    /**
     * Reads a record of orders. An order's event time may be at most {@code readside.orders.max-clock-skew} ahead of
     * the record's Kafka timestamp (when its producer sent it, or, with {@code LogAppendTime}, when the broker wrote
     * it): an event time from a clock that runs ahead would otherwise move the partition's stream time and close
     * windows for everybody. The decision depends on the record alone, never on the wall clock, so every retry and
     * every rebuild decides the same. (A record without a timestamp, from a pre-0.10 producer, has no bound.)
     */
    private OrdersTopicEvent parse(ConsumerRecord<byte[], byte[]> record) {
        Instant latest = record.timestamp() < 0 ? null : Instant.ofEpochMilli(record.timestamp()).plus(maxClockSkew);
        return OrdersTopicEvent.parse(record.key(), record.value(), new OrderEvent.Limits(maxTotal, latest));
    }

    /** The version of an order already in the read model. */
    public record Previous(long userId, String category, BigDecimal total, Integer itemCount, Instant createdAt,
            RevenueWindows.Contribution counted) {

        static Previous of(Row row) {
            String windowCategory = row.getString("window_category");
            return new Previous(row.getLong("user_id"), row.getString("category"), row.getBigDecimal("total"),
                    row.getInteger("item_count"), row.getOffsetDateTime("created_at").toInstant(),
                    windowCategory == null ? null
                            : new RevenueWindows.Contribution(windowCategory,
                                    row.getOffsetDateTime("window_start").toInstant(),
                                    row.getBigDecimal("window_amount")));
        }

        boolean sameAs(OrderEvent order) {
            return userId == order.userId() && category.equals(order.category())
                    && total.compareTo(order.total()) == 0 && Objects.equals(itemCount, order.itemCount())
                    && createdAt.equals(order.createdAt());
        }
    }

    /** What a committed record changed; {@code order} is null when the record was an identical copy. */
    record Projected(OrderEvent order, Instant processedAt, List<WindowState> windows, boolean late) {
        static final Projected UNCHANGED = new Projected(null, null, List.of(), false);
    }

    /**
     * One record on its own, in its own transaction: how a batch is applied when the database refuses one of its
     * records (that one is set aside, the others are applied).
     */
    public Uni<Void> apply(ConsumerRecord<byte[], byte[]> record) {
        OrdersTopicEvent event;
        try {
            event = parse(record);
        } catch (InvalidRecordException e) {
            return applier.reject(CHANNEL, group, record, e).replaceWithVoid();
        }
        if (event instanceof CancelRequested cancel) {
            return applier.applyOnce(CHANNEL, group, record, conn -> lock(conn, new String[] { cancel.orderId() })
                    .chain(() -> saga.apply(conn, cancel.orderId(), SagaStep.Event.CANCEL_REQUESTED,
                            cancel.eventId(), record)))
                    .invoke(step -> saga.counted(SagaStep.Event.CANCEL_REQUESTED, step))
                    .replaceWithVoid();
        }
        OrderEvent order = (OrderEvent) event;
        return applier.applyOnce(CHANNEL, group, record, conn -> project(conn, order, record, true),
                () -> republished(order, record))
                .invoke(projected -> {
                    if (projected != null && projected.late()) { // counted once committed, not per attempt
                        registry.counter("readside.orders.late").increment();
                        try (RecordLogContext context = RecordLogContext.of(record)) {
                            LOG.debugf("order %s at %s came after its window closed: not added to revenue",
                                    order.orderId(), order.createdAt());
                        }
                    }
                })
                .flatMap(projected -> projected == null ? Uni.createFrom().voidItem() : publish(projected));
    }

    // --- batches: one transaction per poll -----------------------------------------------------------------------

    static final String PREVIOUS_VERSIONS = """
            SELECT order_id, user_id, category, total, item_count, created_at, window_category, window_start,
                   window_amount
              FROM orders WHERE order_id = ANY($1)
             ORDER BY order_id
               FOR UPDATE""";

    /** As {@link #UPSERT} for the final version of every order a batch changed. */
    static final String UPSERT_ALL = """
            INSERT INTO orders AS o (order_id, user_id, category, total, item_count, created_at, status, processed_at,
                                     window_category, window_start, window_amount, source_partition, source_offset,
                                     payment_requested_at, status_changed_at)
            SELECT r.order_id, r.user_id, r.category, r.total::numeric, r.item_count, r.created_at, 'PENDING',
                   r.processed_at, r.window_category, r.window_start, r.window_amount::numeric, r.source_partition,
                   r.source_offset, r.processed_at, r.processed_at
              FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::int[], $6::timestamptz[],
                          $7::timestamptz[], $8::text[], $9::timestamptz[], $10::text[], $11::int[], $12::bigint[])
                   AS r(order_id, user_id, category, total, item_count, created_at, processed_at, window_category,
                        window_start, window_amount, source_partition, source_offset)
             ORDER BY r.order_id
            """ + REPLACE_VERSION;

    /** For redelivered records: the orders as last applied, with the window each one's revenue is in now. */
    static final String LATEST_VERSIONS = """
            SELECT o.order_id, o.source_partition, o.source_offset, o.processed_at,
                   w.category, w.window_start, w.window_end, w.revenue, w.order_count
              FROM orders o
              LEFT JOIN revenue_windows w ON w.category = o.window_category AND w.window_start = o.window_start
             WHERE o.order_id = ANY($1)""";

    private static final int PUBLISH_CONCURRENCY = 256;

    /** What a committed batch changed. */
    private record Committed(OrderBatch batch, List<WindowState> windows) {
    }

    /**
     * A poll's records in one transaction: the positions of its partitions are claimed, the orders are folded in
     * memory in offset order exactly as one record after the other would be ({@link OrderBatch}), and each table
     * is written with one statement. Records below the stored position are redeliveries (published again if still
     * the latest version); invalid ones go to the dead-letter topic first. If the database refuses the batch's data,
     * its records are applied one at a time, so that only the refused one is set aside.
     */
    @Incoming(CHANNEL)
    public Uni<Void> applyBatch(ConsumerRecords<byte[], byte[]> polled) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>(polled.count());
        for (TopicPartition partition : polled.partitions()) {
            records.addAll(polled.records(partition));
        }
        // one span for the poll, linked to each record's trace (the child of it, for a batch of one)
        Span span = spans.consumed(topic, group, records);
        // kept across retries: a dead letter is sent once per delivery
        Map<String, DeadLetters.Letter> deadLettered = new HashMap<>();
        Uni<Void> attempt = Uni.createFrom().deferred(() -> applyAll(records, deadLettered, span))
                .onFailure(RecordApplier::refusedData).recoverWithUni(e -> {
                    try (BatchSpans.LogIds logIds = BatchSpans.logIds(span)) {
                        LOG.warnf("batch of %d refused by the database (%s); applying its records one at a time",
                                records.size(), e.getMessage());
                    }
                    return oneByOne(records, deadLettered);
                });
        return BatchSpans.ended(applier.retryingBatch(CHANNEL, "a batch of " + records.size() + " records", attempt),
                span);
    }

    private Uni<Void> applyAll(List<ConsumerRecord<byte[], byte[]>> records, Map<String, DeadLetters.Letter> deadLettered,
            Span span) {
        guard.check(topic); // a fenced log: nothing is applied, set aside or counted (retried until accepted)
        long start = System.nanoTime();
        Set<Integer> partitions = new TreeSet<>();
        records.forEach(record -> partitions.add(record.partition()));
        return applier.storedPositions(group, topic, partitions).flatMap(stored -> {
            Sorted sorted = new Sorted();
            for (ConsumerRecord<byte[], byte[]> record : records) {
                if (record.offset() < stored.getOrDefault(record.partition(), 0L)) {
                    sorted.redelivered.add(record);
                    continue;
                }
                sorted.fresh.add(record);
                try {
                    OrdersTopicEvent event = parse(record);
                    if (event instanceof OrderEvent order) {
                        sorted.valid.add(new OrderBatch.Input(order, record.partition(), record.offset()));
                        sorted.validRecords.add(record);
                    } else {
                        sorted.cancels = true;
                    }
                } catch (InvalidRecordException e) {
                    sorted.invalid.put(record, e);
                }
            }
            Uni<Void> confirmed = sorted.redelivered.isEmpty() ? Uni.createFrom().voidItem()
                    : guard.confirm(topic); // redeliveries, or the first records of a recreated topic?
            return confirmed.chain(() -> applySorted(start, records, deadLettered, sorted, span));
        });
    }

    /** A poll's records by what they are: below the stored position, new (valid or not), and whether any cancels. */
    private static final class Sorted {
        final List<ConsumerRecord<byte[], byte[]>> redelivered = new ArrayList<>();
        final List<ConsumerRecord<byte[], byte[]>> fresh = new ArrayList<>();
        final List<OrderBatch.Input> valid = new ArrayList<>();
        final List<ConsumerRecord<byte[], byte[]>> validRecords = new ArrayList<>();
        final Map<ConsumerRecord<byte[], byte[]>, InvalidRecordException> invalid = new LinkedHashMap<>();
        boolean cancels;
    }

    private Uni<Void> applySorted(long start, List<ConsumerRecord<byte[], byte[]>> records,
            Map<String, DeadLetters.Letter> deadLettered, Sorted sorted, Span span) {
        List<ConsumerRecord<byte[], byte[]>> redelivered = sorted.redelivered;
        List<ConsumerRecord<byte[], byte[]>> fresh = sorted.fresh;
        Map<ConsumerRecord<byte[], byte[]>, InvalidRecordException> invalid = sorted.invalid;
        if (sorted.cancels) { // a saga step between versions: the batch goes record by record, in offset order
            return oneByOne(records, deadLettered);
        }
        List<Uni<Void>> letters = new ArrayList<>();
        invalid.forEach((record, e) -> {
            if (!deadLettered.containsKey(RecordApplier.where(record))) {
                letters.add(deadLetters.send(CHANNEL, record, e)
                        .invoke(letter -> deadLettered.put(RecordApplier.where(record), letter)).replaceWithVoid());
            }
        });
        Uni<Void> lettersSent = letters.isEmpty() ? Uni.createFrom().voidItem()
                : Uni.join().all(letters).andFailFast().replaceWithVoid();
        return lettersSent
                .chain(() -> fresh.isEmpty() ? Uni.createFrom().item(new Committed(null, List.of()))
                        : spans.transaction(span, "orders transaction", () -> pool.withTransaction(
                                conn -> project(conn, fresh, sorted.valid, TraceHeaders.of(span))
                                        .call(() -> setAside(conn, invalid, deadLettered)))))
                .flatMap(committed -> {
                    applier.counted(CHANNEL, RecordApplier.Outcome.APPLIED, sorted.validRecords, start);
                    applier.counted(CHANNEL, RecordApplier.Outcome.DUPLICATE, redelivered, start);
                    invalid.forEach((record, e) -> applier.rejected(CHANNEL, record, e,
                            deadLettered.get(RecordApplier.where(record))));
                    if (committed.batch() != null) {
                        countLate(committed.batch());
                    }
                    return publish(committed).chain(() -> republish(redelivered));
                });
    }

    /** Invalid records whose dead letter did not carry them keep their bytes in the batch's transaction. */
    private Uni<Void> setAside(SqlConnection conn, Map<ConsumerRecord<byte[], byte[]>, InvalidRecordException> invalid,
            Map<String, DeadLetters.Letter> letters) {
        Uni<Void> stored = Uni.createFrom().voidItem();
        for (Map.Entry<ConsumerRecord<byte[], byte[]>, InvalidRecordException> entry : invalid.entrySet()) {
            stored = stored.chain(() -> SetAside.store(conn, group, entry.getKey(), entry.getValue(),
                    letters.get(RecordApplier.where(entry.getKey()))));
        }
        return stored;
    }

    private Uni<Committed> project(SqlConnection conn, List<ConsumerRecord<byte[], byte[]>> fresh,
            List<OrderBatch.Input> valid, TraceHeaders trace) {
        Map<Integer, long[]> ranges = new TreeMap<>(); // partition -> {first, next}
        for (ConsumerRecord<byte[], byte[]> record : fresh) {
            ranges.merge(record.partition(), new long[] { record.offset(), record.offset() + 1 },
                    (a, b) -> new long[] { Math.min(a[0], b[0]), Math.max(a[1], b[1]) });
        }
        Map<Integer, Instant> streamTimes = new HashMap<>();
        Uni<Void> claimed = Uni.createFrom().voidItem();
        for (Map.Entry<Integer, long[]> range : ranges.entrySet()) {
            claimed = claimed.chain(() -> RecordApplier.claimRange(conn, group, topic, range.getKey(),
                    range.getValue()[0], range.getValue()[1])
                    .invoke(streamTime -> {
                        if (streamTime != null) {
                            streamTimes.put(range.getKey(), streamTime);
                        }
                    }).replaceWithVoid());
        }
        String[] ids = valid.stream().map(input -> input.order().orderId()).distinct().toArray(String[]::new);
        return claimed
                .chain(() -> ids.length == 0 ? Uni.createFrom().item(Map.<String, Previous> of())
                        : lock(conn, ids).chain(() -> conn.preparedQuery(PREVIOUS_VERSIONS).execute(Tuple.of(ids)))
                                .map(rows -> {
                                    Map<String, Previous> previous = new HashMap<>();
                                    rows.forEach(row -> previous.put(row.getString("order_id"), Previous.of(row)));
                                    return previous;
                                }))
                .flatMap(previous -> {
                    Instant processedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
                    OrderBatch batch = new OrderBatch(windows, previous, streamTimes).apply(valid, processedAt);
                    List<OrderEvent> created = batch.rows.values().stream()
                            .filter(row -> !previous.containsKey(row.order().orderId())).map(OrderBatch.Row::order)
                            .toList();
                    return writeOrders(conn, batch)
                            .chain(() -> saga.requestPayments(conn, created, processedAt, trace))
                            .chain(() -> writeUserTotals(conn, batch))
                            .chain(() -> revenue.applyAll(conn, windows, batch.windowDeltas.values()))
                            .flatMap(states -> advanceStreamTimes(conn, batch, valid)
                                    .map(done -> new Committed(batch, states)));
                });
    }

    private static Uni<Void> lock(SqlConnection conn, String[] orderIds) {
        return conn.preparedQuery(LOCK_ORDER_IDS).execute(Tuple.of(orderIds, ORDER_LOCKS)).replaceWithVoid();
    }

    private Uni<Void> writeOrders(SqlConnection conn, OrderBatch batch) {
        int n = batch.rows.size();
        if (n == 0) {
            return Uni.createFrom().voidItem();
        }
        Object[][] columns = new Object[12][];
        columns[0] = new String[n];
        columns[1] = new Long[n];
        columns[2] = new String[n];
        columns[3] = new String[n];
        columns[4] = new Integer[n];
        columns[5] = new OffsetDateTime[n];
        columns[6] = new OffsetDateTime[n];
        columns[7] = new String[n];
        columns[8] = new OffsetDateTime[n];
        columns[9] = new String[n];
        columns[10] = new Integer[n];
        columns[11] = new Long[n];
        int i = 0;
        for (OrderBatch.Row row : batch.rows.values()) {
            OrderEvent order = row.order();
            RevenueWindows.Contribution counted = row.counted();
            columns[0][i] = order.orderId();
            columns[1][i] = order.userId();
            columns[2][i] = order.category();
            columns[3][i] = order.total().toPlainString();
            columns[4][i] = order.itemCount();
            columns[5][i] = utc(order.createdAt());
            columns[6][i] = utc(row.processedAt());
            columns[7][i] = counted == null ? null : counted.category();
            columns[8][i] = counted == null ? null : utc(counted.windowStart());
            columns[9][i] = counted == null ? null : counted.amount().toPlainString();
            columns[10][i] = row.partition();
            columns[11][i++] = row.offset();
        }
        return conn.preparedQuery(UPSERT_ALL).execute(Tuple.from(columns)).replaceWithVoid();
    }

    private Uni<Void> writeUserTotals(SqlConnection conn, OrderBatch batch) {
        int n = batch.userDeltas.size();
        Long[] users = new Long[n];
        Integer[] orders = new Integer[n];
        BigDecimal[] amounts = new BigDecimal[n];
        int i = 0;
        for (Map.Entry<Long, OrderBatch.UserDelta> delta : batch.userDeltas.entrySet()) {
            users[i] = delta.getKey();
            orders[i] = delta.getValue().orders();
            amounts[i++] = delta.getValue().amount();
        }
        return userTotals.addAll(conn, users, orders, amounts);
    }

    /** Each partition's stream time moves to the latest event time of its valid records, as record by record. */
    private Uni<Void> advanceStreamTimes(SqlConnection conn, OrderBatch batch, List<OrderBatch.Input> valid) {
        Set<Integer> touched = new TreeSet<>();
        valid.forEach(input -> touched.add(input.partition()));
        Uni<Void> advanced = Uni.createFrom().voidItem();
        for (Integer partition : touched) {
            Instant streamTime = batch.streamTime().get(partition);
            advanced = advanced.chain(() -> conn.preparedQuery(ADVANCE_STREAM_TIME)
                    .execute(Tuple.of(group, topic, partition, utc(streamTime))).replaceWithVoid());
        }
        return advanced;
    }

    private void countLate(OrderBatch batch) {
        for (OrderBatch.Change change : batch.changes) {
            if (change.late()) {
                registry.counter("readside.orders.late").increment();
                LOG.debugf("order %s at %s came after its window closed: not added to revenue",
                        change.order().orderId(), change.order().createdAt());
            }
        }
    }

    /** The batch's changes on processed-orders, and each window it changed, at its state after the batch. */
    private Uni<Void> publish(Committed committed) {
        List<Uni<Void>> sends = new ArrayList<>();
        if (committed.batch() != null) {
            for (OrderBatch.Change change : committed.batch().changes) {
                Projected projected = new Projected(change.order(), change.processedAt(), List.of(), false);
                sends.add(processedOrders.sendMessage(KafkaRecord.of(change.order().orderId(),
                        processedOrder(projected))));
            }
        }
        for (WindowState window : committed.windows()) {
            sends.add(revenueByCategory.sendMessage(KafkaRecord.of(window.category(), json(RevenueUpdate.of(window)))));
        }
        return sendAll(sends);
    }

    /** Redelivered records that are still their order's latest version are published again (see apply). */
    private Uni<Void> republish(List<ConsumerRecord<byte[], byte[]>> redelivered) {
        Map<String, ConsumerRecord<byte[], byte[]>> byOrder = new HashMap<>();
        Map<String, OrderEvent> orders = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : redelivered) {
            try {
                if (parse(record) instanceof OrderEvent order) {
                    byOrder.put(order.orderId(), record);
                    orders.put(order.orderId(), order);
                }
            } catch (InvalidRecordException e) {
                // set aside when it was first read
            }
        }
        if (byOrder.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return pool.preparedQuery(LATEST_VERSIONS).execute(Tuple.of(byOrder.keySet().toArray(new String[0])))
                .flatMap(rows -> {
                    List<Uni<Void>> sends = new ArrayList<>();
                    for (Row row : rows) {
                        ConsumerRecord<?, ?> record = byOrder.get(row.getString("order_id"));
                        if (row.getInteger("source_partition") != record.partition()
                                || row.getLong("source_offset") != record.offset()) {
                            continue; // superseded (or an identical copy): nothing to publish again
                        }
                        OrderEvent order = orders.get(row.getString("order_id"));
                        sends.add(processedOrders.sendMessage(KafkaRecord.of(order.orderId(), processedOrder(
                                new Projected(order, row.getOffsetDateTime("processed_at").toInstant(), List.of(),
                                        false)))));
                        if (row.getString("category") != null) {
                            WindowState window = WindowState.of(row);
                            sends.add(revenueByCategory.sendMessage(KafkaRecord.of(window.category(),
                                    json(RevenueUpdate.of(window)))));
                        }
                    }
                    return sendAll(sends);
                });
    }

    /** At least once: retried with back-off until the broker has them all. */
    private Uni<Void> sendAll(List<Uni<Void>> sends) {
        if (sends.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return Multi.createFrom().iterable(sends).onItem().transformToUni(send -> send).merge(PUBLISH_CONCURRENCY)
                .collect().last().replaceWithVoid()
                .onFailure().invoke(e -> LOG.warnf("publishing %d records failed, retrying: %s", sends.size(),
                        e.toString()))
                .onFailure().retry().withBackOff(Duration.ofMillis(200), Duration.ofSeconds(10)).indefinitely();
    }

    private Uni<Void> oneByOne(List<ConsumerRecord<byte[], byte[]>> records, Map<String, DeadLetters.Letter> deadLettered) {
        return Multi.createFrom().iterable(records)
                .onItem().transformToUniAndConcatenate(record -> {
                    DeadLetters.Letter letter = deadLettered.get(RecordApplier.where(record));
                    if (letter == null) {
                        return apply(record);
                    }
                    try {
                        parse(record);
                        return apply(record);
                    } catch (InvalidRecordException e) { // its dead letter is out already
                        return applier.markRejected(CHANNEL, group, record, e, letter).replaceWithVoid();
                    }
                })
                .collect().last().replaceWithVoid();
    }

    @Override
    public String readModel() {
        return "orders";
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public String group() {
        return group;
    }

    @Override
    public List<String> tables() {
        return List.of("orders", "revenue_windows", "user_order_totals");
    }

    @Override
    public Uni<Boolean> replay(SqlConnection conn, ConsumerRecord<byte[], byte[]> record) {
        OrdersTopicEvent event;
        try {
            event = parse(record);
        } catch (InvalidRecordException e) {
            return Uni.createFrom().item(false);
        }
        // a cancel's effect is the saga status, which is carried over from the live table (payments are not replayed)
        return event instanceof OrderEvent order ? project(conn, order, record, false).replaceWith(true)
                : Uni.createFrom().item(true);
    }

    /** An order's processed_at is when this version was first processed, not when a rebuild replayed it. */
    static final String KEEP_PROCESSED_AT = """
            UPDATE %2$s.orders r SET processed_at = l.processed_at
              FROM %1$s.orders l
             WHERE l.order_id = r.order_id AND l.source_partition = r.source_partition
               AND l.source_offset = r.source_offset AND l.processed_at <> r.processed_at
               AND ($1::timestamptz IS NULL OR r.processed_at >= $1)""";

    /**
     * The saga's state is not in topic orders (payment results and timeouts move it): it is taken from the live rows.
     * Payment results do not wait on the orders positions, so in the switch the live table is held against writers.
     */
    static final String KEEP_SAGA_STATE = """
            UPDATE %2$s.orders r SET status = l.status, payment_requested_at = l.payment_requested_at,
                   status_changed_at = l.status_changed_at, cancel_event_id = l.cancel_event_id
              FROM %1$s.orders l
             WHERE l.order_id = r.order_id
               AND (l.status, l.payment_requested_at, l.status_changed_at, l.cancel_event_id)
                   IS DISTINCT FROM (r.status, r.payment_requested_at, r.status_changed_at, r.cancel_event_id)""";

    @Override
    public Uni<Void> carryOver(SqlConnection conn, String live, String rebuilt, Instant replayedSince) {
        Uni<Void> held = replayedSince == null ? Uni.createFrom().voidItem()
                : conn.query("LOCK TABLE " + live + ".orders IN EXCLUSIVE MODE").execute().replaceWithVoid();
        return held
                .chain(() -> conn.preparedQuery(KEEP_PROCESSED_AT.formatted(live, rebuilt))
                        .execute(Tuple.of(replayedSince == null ? null : utc(replayedSince))))
                .chain(() -> conn.query(KEEP_SAGA_STATE.formatted(live, rebuilt)).execute())
                .replaceWithVoid();
    }

    /**
     * A redelivered record that is still the order's latest applied version is published again: the crash that
     * caused the redelivery may have come between the commit and the broker's acknowledgement. An older version
     * (superseded) or an identical copy publishes nothing.
     */
    private Uni<Projected> republished(OrderEvent order, ConsumerRecord<?, ?> record) {
        return pool.preparedQuery(LATEST_VERSION).execute(Tuple.of(order.orderId(), record.partition(), record.offset()))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return null;
                    }
                    Row row = rows.iterator().next();
                    List<WindowState> windows = row.getString("category") == null ? List.of()
                            : List.of(WindowState.of(row));
                    return new Projected(order, row.getOffsetDateTime("processed_at").toInstant(), windows, false);
                });
    }

    private Uni<Projected> project(SqlConnection conn, OrderEvent order, ConsumerRecord<?, ?> record,
            boolean live) {
        Uni<Instant> streamTime = conn.preparedQuery(ADVANCE_STREAM_TIME)
                .execute(Tuple.of(group, record.topic(), record.partition(), utc(order.createdAt())))
                .map(rows -> rows.iterator().next().getOffsetDateTime(0).toInstant());
        Uni<Void> locked = live ? lock(conn, new String[] { order.orderId() }) : Uni.createFrom().voidItem();
        Uni<Previous> previous = locked
                .chain(() -> conn.preparedQuery(PREVIOUS_VERSION).execute(Tuple.of(order.orderId())))
                .map(rows -> rows.size() == 0 ? null : Previous.of(rows.iterator().next()));
        return streamTime.flatMap(now -> previous.flatMap(before -> {
            if (before != null && before.sameAs(order)) {
                return Uni.createFrom().item(Projected.UNCHANGED);
            }
            RevenueWindows.Plan plan = windows.plan(before == null ? null : before.counted(), order.category(),
                    order.createdAt(), order.total(), now);
            Instant processedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            return conn.preparedQuery(UPSERT).execute(upsertParameters(order, processedAt, plan.counted(), record))
                    .chain(() -> before != null ? Uni.createFrom().voidItem()
                            : saga.requestPayments(conn, List.of(order), processedAt, null))
                    .chain(() -> userTotals.apply(conn, before == null ? null : before.userId(),
                            before == null ? null : before.total(), order.userId(), order.total()))
                    .chain(() -> revenue.apply(conn, windows, plan.deltas()))
                    .map(states -> new Projected(order, processedAt, states, plan.late()));
        }));
    }

    private static Tuple upsertParameters(OrderEvent order, Instant processedAt, RevenueWindows.Contribution counted,
            ConsumerRecord<?, ?> record) {
        return Tuple.from(new Object[] {
                order.orderId(), order.userId(), order.category(), order.total(), order.itemCount(),
                utc(order.createdAt()), utc(processedAt),
                counted == null ? null : counted.category(),
                counted == null ? null : utc(counted.windowStart()),
                counted == null ? null : counted.amount(),
                record.partition(), record.offset() });
    }

    /** At least once: retried with back-off until the broker has them, and only then is the record acknowledged. */
    private Uni<Void> publish(Projected projected) {
        List<Uni<Void>> sends = new ArrayList<>();
        if (projected.order() != null) {
            sends.add(processedOrders.sendMessage(
                    KafkaRecord.of(projected.order().orderId(), processedOrder(projected))));
        }
        for (WindowState window : projected.windows()) {
            sends.add(revenueByCategory.sendMessage(KafkaRecord.of(window.category(), json(RevenueUpdate.of(window)))));
        }
        if (sends.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return Uni.join().all(sends).andCollectFailures().replaceWithVoid()
                .onFailure().invoke(e -> LOG.warnf("publishing after order %s failed, retrying: %s",
                        projected.order() == null ? "?" : projected.order().orderId(), e.toString()))
                .onFailure().retry().withBackOff(Duration.ofMillis(200), Duration.ofSeconds(10)).indefinitely();
    }

    /**
     * The order as received (its bytes: numbers as written, unknown fields kept) plus {@code processed_at} (epoch
     * seconds with microseconds, as the guide's times) and {@code "status":"processed"}, which replace members of
     * those names.
     */
    private static byte[] processedOrder(Projected projected) {
        Instant at = projected.processedAt();
        String processedAt = BigDecimal.valueOf(at.getEpochSecond()).add(BigDecimal.valueOf(at.getNano(), 9))
                .setScale(6, RoundingMode.UNNECESSARY).toPlainString();
        Map<String, String> added = new LinkedHashMap<>();
        added.put("processed_at", processedAt);
        added.put("status", "\"processed\"");
        return ExactJson.withMembers(projected.order().value(), added);
    }

    /** A value of revenue-by-category; the revenue is a string so that no consumer reads it as a double. */
    @RegisterForReflection
    public record RevenueUpdate(String category, Instant windowStart, Instant windowEnd, String revenue,
            int orderCount) {

        static RevenueUpdate of(WindowState window) {
            return new RevenueUpdate(window.category(), window.windowStart(), window.windowEnd(),
                    window.revenue().toPlainString(), window.orderCount());
        }
    }

    private String json(Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static OffsetDateTime utc(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }
}
