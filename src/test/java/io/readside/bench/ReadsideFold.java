package io.readside.bench;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.readside.orders.OrderEvent;
import io.readside.projection.ExactJson;
import io.readside.projection.InvalidRecordException;
import io.readside.revenue.RevenueWindows;

/**
 * The only place where loop B ({@link SameWorkPipeline}) names Readside's classes: the parser, the window rules
 * ({@code RevenueWindows}) and the byte-preserving JSON copy of processed-orders; the fold of a poll is the loops'
 * own ({@link BenchFold}). Loop B itself only sees the plain records below. Same settings as the service's defaults (application.properties).
 */
final class ReadsideFold {

    /** An order as the orders table stores it after the poll. */
    record OrderRow(String orderId, long userId, String category, BigDecimal total, Integer itemCount,
            Instant createdAt, Instant processedAt, String windowCategory, Instant windowStart,
            BigDecimal windowAmount, int partition, long offset) {
    }

    /** A change to publish on processed-orders: the order's bytes as received, and when it was processed. */
    record Change(String orderId, byte[] value, Instant processedAt) {
    }

    /** A new order, which gets a payment request. */
    record Created(String orderId, long userId, BigDecimal total) {
    }

    record UserDelta(long userId, int orders, BigDecimal amount) {
    }

    record WindowDelta(String category, Instant windowStart, Instant windowEnd, BigDecimal revenue, int orderCount) {
    }

    /** What a poll does, in the order Readside writes it (users and windows sorted: the lock order). */
    record Folded(List<OrderRow> rows, List<Change> changes, List<Created> created, List<UserDelta> users,
            List<WindowDelta> windows, Map<Integer, Instant> streamTime) {
    }

    private final RevenueWindows windows = new RevenueWindows(Duration.ofSeconds(60), Duration.ofMinutes(5));
    private final BigDecimal maxTotal = new BigDecimal("1000000");
    private final Duration maxClockSkew = Duration.ofMinutes(1);

    /** A poll being folded: parse, then the previous versions, then {@link #fold}. */
    final class Poll {
        private final List<BenchFold.Input> inputs = new ArrayList<>();
        private final Map<String, BenchFold.Previous> previous = new HashMap<>();

        /** Parses as the service does (event time at most max-clock-skew past the record's timestamp). */
        void add(ConsumerRecord<byte[], byte[]> record) {
            Instant latest = record.timestamp() < 0 ? null
                    : Instant.ofEpochMilli(record.timestamp()).plus(maxClockSkew);
            try {
                inputs.add(new BenchFold.Input(OrderEvent.parse(record.key(), record.value(),
                        new OrderEvent.Limits(maxTotal, latest)), record.partition(), record.offset()));
            } catch (InvalidRecordException e) {
                // not in the benchmark's data (Readside would dead-letter it)
            }
        }

        String[] orderIds() {
            return inputs.stream().map(input -> input.order().orderId()).distinct().toArray(String[]::new);
        }

        /** One row of {@code SELECT order_id, user_id, category, total, item_count, created_at, window_*}. */
        void previous(ResultSet row) throws SQLException {
            String category = row.getString("window_category");
            previous.put(row.getString("order_id"), new BenchFold.Previous(row.getLong("user_id"),
                    row.getString("category"), row.getBigDecimal("total"), (Integer) row.getObject("item_count"),
                    row.getTimestamp("created_at").toInstant(),
                    category == null ? null : new RevenueWindows.Contribution(category,
                            row.getTimestamp("window_start").toInstant(), row.getBigDecimal("window_amount"))));
        }

        Folded fold(Map<Integer, Instant> streamTimes, Instant processedAt) {
            BenchFold batch = new BenchFold(windows, previous, streamTimes).apply(inputs, processedAt);
            List<OrderRow> rows = new ArrayList<>(batch.rows.size());
            List<Created> created = new ArrayList<>();
            for (BenchFold.Row row : batch.rows.values()) {
                OrderEvent order = row.order();
                RevenueWindows.Contribution counted = row.counted();
                rows.add(new OrderRow(order.orderId(), order.userId(), order.category(), order.total(),
                        order.itemCount(), order.createdAt(), row.processedAt(),
                        counted == null ? null : counted.category(), counted == null ? null : counted.windowStart(),
                        counted == null ? null : counted.amount(), row.partition(), row.offset()));
                if (!previous.containsKey(order.orderId())) {
                    created.add(new Created(order.orderId(), order.userId(), order.total()));
                }
            }
            List<Change> changes = new ArrayList<>(batch.changes.size());
            for (BenchFold.Change change : batch.changes) {
                changes.add(new Change(change.order().orderId(), change.order().value(), change.processedAt()));
            }
            List<UserDelta> users = new ArrayList<>(batch.userDeltas.size());
            batch.userDeltas.forEach((user, delta) -> users.add(new UserDelta(user, delta.orders(), delta.amount())));
            List<WindowDelta> deltas = new ArrayList<>(batch.windowDeltas.size());
            for (RevenueWindows.Delta delta : batch.windowDeltas.values()) {
                deltas.add(new WindowDelta(delta.category(), delta.windowStart(),
                        windows.windowEnd(delta.windowStart()), delta.revenue(), delta.orderCount()));
            }
            return new Folded(rows, changes, created, users, deltas, batch.streamTime());
        }
    }

    Poll poll() {
        return new Poll();
    }

    /**
     * The value on processed-orders, as OrdersProjector.processedOrder makes it: the order's bytes with
     * {@code processed_at} (epoch seconds, microseconds) and {@code "status":"processed"} as last members.
     */
    static byte[] processedOrder(byte[] order, Instant at) {
        String processedAt = BigDecimal.valueOf(at.getEpochSecond()).add(BigDecimal.valueOf(at.getNano(), 9))
                .setScale(6, RoundingMode.UNNECESSARY).toPlainString();
        Map<String, String> added = new LinkedHashMap<>();
        added.put("processed_at", processedAt);
        added.put("status", "\"processed\"");
        return ExactJson.withMembers(order, added);
    }
}
