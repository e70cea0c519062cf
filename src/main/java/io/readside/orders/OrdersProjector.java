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
import java.util.Objects;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.readside.projection.InvalidRecordException;
import io.readside.projection.RecordApplier;
import io.readside.projection.RecordLogContext;
import io.readside.projection.replay.Replayable;
import io.readside.revenue.RevenueProjector;
import io.readside.revenue.RevenueProjector.WindowState;
import io.readside.revenue.RevenueWindows;
import io.readside.users.UserOrderTotalsProjector;
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
 * the difference. After the commit, the enriched order goes to {@code processed-orders} and each changed window to
 * {@code revenue-by-category}; the record is acknowledged once the broker has both. A redelivered record that is
 * still the order's latest version is published again, so a crash between commit and publish loses nothing.
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

    static final String UPSERT = """
            INSERT INTO orders AS o (order_id, user_id, category, total, item_count, created_at, status, processed_at,
                                     window_category, window_start, window_amount, source_partition, source_offset)
            VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $8, $9, $10, $11, $12)
            ON CONFLICT (order_id) DO UPDATE
                SET user_id = EXCLUDED.user_id, category = EXCLUDED.category, total = EXCLUDED.total,
                    item_count = EXCLUDED.item_count, created_at = EXCLUDED.created_at,
                    processed_at = EXCLUDED.processed_at, window_category = EXCLUDED.window_category,
                    window_start = EXCLUDED.window_start, window_amount = EXCLUDED.window_amount,
                    source_partition = EXCLUDED.source_partition, source_offset = EXCLUDED.source_offset""";

    @Inject
    RecordApplier applier;
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
    @Channel(PROCESSED_ORDERS)
    MutinyEmitter<String> processedOrders;
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

    private RevenueWindows windows;

    @PostConstruct
    void init() {
        windows = new RevenueWindows(windowSize, grace);
    }

    /** The version of an order already in the read model. */
    record Previous(long userId, String category, BigDecimal total, Integer itemCount, Instant createdAt,
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

    @Incoming(CHANNEL)
    public Uni<Void> apply(ConsumerRecord<String, byte[]> record) {
        OrderEvent order;
        try {
            order = OrderEvent.parse(record.key(), record.value(), maxTotal);
        } catch (InvalidRecordException e) {
            return applier.reject(CHANNEL, group, record, e).replaceWithVoid();
        }
        return applier.applyOnce(CHANNEL, group, record, conn -> project(conn, order, record),
                () -> republished(order, record))
                .invoke(projected -> {
                    if (projected != null && projected.late()) { // counted once committed, not per attempt
                        registry.counter("readside.orders.late").increment();
                        try (RecordLogContext context = RecordLogContext.of(record)) {
                            LOG.infof("order %s at %s came after its window closed: not added to revenue",
                                    order.orderId(), order.createdAt());
                        }
                    }
                })
                .flatMap(projected -> projected == null ? Uni.createFrom().voidItem() : publish(projected));
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
    public Uni<Boolean> replay(SqlConnection conn, ConsumerRecord<String, byte[]> record) {
        OrderEvent order;
        try {
            order = OrderEvent.parse(record.key(), record.value(), maxTotal);
        } catch (InvalidRecordException e) {
            return Uni.createFrom().item(false);
        }
        return project(conn, order, record).replaceWith(true);
    }

    /** An order's processed_at is when this version was first processed, not when a rebuild replayed it. */
    static final String KEEP_PROCESSED_AT = """
            UPDATE %2$s.orders r SET processed_at = l.processed_at
              FROM %1$s.orders l
             WHERE l.order_id = r.order_id AND l.source_partition = r.source_partition
               AND l.source_offset = r.source_offset""";

    @Override
    public Uni<Void> beforeSwitch(SqlConnection conn, String live, String rebuilt) {
        return conn.query(KEEP_PROCESSED_AT.formatted(live, rebuilt)).execute().replaceWithVoid();
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

    private Uni<Projected> project(SqlConnection conn, OrderEvent order, ConsumerRecord<?, ?> record) {
        Uni<Instant> streamTime = conn.preparedQuery(ADVANCE_STREAM_TIME)
                .execute(Tuple.of(group, record.topic(), record.partition(), utc(order.createdAt())))
                .map(rows -> rows.iterator().next().getOffsetDateTime(0).toInstant());
        Uni<Previous> previous = conn.preparedQuery(PREVIOUS_VERSION).execute(Tuple.of(order.orderId()))
                .map(rows -> rows.size() == 0 ? null : Previous.of(rows.iterator().next()));
        return streamTime.flatMap(now -> previous.flatMap(before -> {
            if (before != null && before.sameAs(order)) {
                return Uni.createFrom().item(Projected.UNCHANGED);
            }
            RevenueWindows.Plan plan = windows.plan(before == null ? null : before.counted(), order.category(),
                    order.createdAt(), order.total(), now);
            Instant processedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            return conn.preparedQuery(UPSERT).execute(upsertParameters(order, processedAt, plan.counted(), record))
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

    /** The order as received plus {@code processed_at} (epoch seconds, as the guide's times) and the status. */
    private String processedOrder(Projected projected) {
        ObjectNode value = projected.order().json().deepCopy();
        Instant at = projected.processedAt();
        value.put("processed_at", BigDecimal.valueOf(at.getEpochSecond()).add(BigDecimal.valueOf(at.getNano(), 9))
                .setScale(6, RoundingMode.UNNECESSARY));
        value.put("status", "processed");
        return json(value);
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
