package io.readside.bench;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.readside.orders.OrderEvent;
import io.readside.revenue.RevenueWindows;

/**
 * The hand-written loops' own fold of a poll of orders (the fold Readside had before its engine was split into read
 * models, kept here as a plain single class): every table's change in offset order exactly as one record after the
 * other would (same stream time, same previous versions, same window plans), so that the batch is written with one
 * statement per table. Pure logic, no I/O.
 */
public final class BenchFold {

    /** The version of an order in the tables, with the revenue it has counted (null: none). */
    public record Previous(long userId, String category, BigDecimal total, Integer itemCount, Instant createdAt,
            RevenueWindows.Contribution counted) {

        boolean sameAs(OrderEvent order) {
            return userId == order.userId() && category.equals(order.category())
                    && total.compareTo(order.total()) == 0 && java.util.Objects.equals(itemCount, order.itemCount())
                    && createdAt.equals(order.createdAt());
        }
    }

    /** An order of the batch and where it came from. */
    public record Input(OrderEvent order, int partition, long offset) {
    }

    /** The final version of an order after the batch, as the {@code orders} row holds it. */
    public record Row(OrderEvent order, Instant processedAt, RevenueWindows.Contribution counted, int partition,
            long offset) {
    }

    /** One change to publish on processed-orders (an identical copy is none). */
    public record Change(OrderEvent order, Instant processedAt, Input input, boolean late) {
    }

    /**
     * The loops' write of each changed order's revenue contribution, RevenueByCategory's state, in one statement (a
     * null category: it counts nowhere now, the row goes).
     */
    static final String CONTRIBUTIONS = """
            WITH r AS (SELECT * FROM unnest(?::text[], ?::text[], ?::timestamptz[], ?::numeric[])
                                 AS r(order_id, category, window_start, amount)),
                 gone AS (DELETE FROM revenue_contributions c USING r
                           WHERE c.order_id = r.order_id AND r.category IS NULL)
            INSERT INTO revenue_contributions AS c (order_id, category, window_start, amount)
            SELECT order_id, category, window_start, amount FROM r WHERE category IS NOT NULL
            ON CONFLICT (order_id) DO UPDATE
                SET category = EXCLUDED.category, window_start = EXCLUDED.window_start, amount = EXCLUDED.amount""";

    private final RevenueWindows windows;
    private final Map<String, Previous> current;
    private final Map<Integer, Instant> streamTime;

    public final Map<String, Row> rows = new LinkedHashMap<>();
    public final List<Change> changes = new ArrayList<>();
    /** A change to a user's order totals. */
    public record UserDelta(int orders, BigDecimal amount) {
        UserDelta plus(UserDelta other) {
            return new UserDelta(orders + other.orders, amount.add(other.amount));
        }
    }

    /** user id -> summed delta; every user a record-by-record pass would write (also when it sums to zero) */
    public final Map<Long, UserDelta> userDeltas = new TreeMap<>();
    /** category and window start -> summed delta; every window a record-by-record pass would write (also zero) */
    public final Map<WindowKey, RevenueWindows.Delta> windowDeltas = new TreeMap<>(
            Comparator.comparing(WindowKey::category).thenComparing(WindowKey::windowStart));

    public record WindowKey(String category, Instant windowStart) {
    }

    /**
     * @param previous the orders of the batch as the database has them (absent: new)
     * @param streamTime each partition's stream time before the batch (absent: none yet)
     */
    public BenchFold(RevenueWindows windows, Map<String, Previous> previous, Map<Integer, Instant> streamTime) {
        this.windows = windows;
        this.current = new HashMap<>(previous);
        this.streamTime = new HashMap<>(streamTime);
    }

    /** Applies the inputs, which must be in offset order within each partition. */
    public BenchFold apply(List<Input> inputs, Instant processedAt) {
        for (Input input : inputs) {
            OrderEvent order = input.order();
            Instant now = streamTime.merge(input.partition(), order.createdAt(), (a, b) -> a.isAfter(b) ? a : b);
            Previous before = current.get(order.orderId());
            if (before != null && before.sameAs(order)) {
                continue;
            }
            RevenueWindows.Plan plan = windows.plan(before == null ? null : before.counted(), order.category(),
                    order.createdAt(), order.total(), now);
            for (RevenueWindows.Delta delta : plan.deltas()) {
                windowDeltas.merge(new WindowKey(delta.category(), delta.windowStart()), delta,
                        (a, b) -> new RevenueWindows.Delta(a.category(), a.windowStart(), a.revenue().add(b.revenue()),
                                a.orderCount() + b.orderCount()));
            }
            if (before == null) {
                addToUser(order.userId(), 1, order.total());
            } else if (before.userId() != order.userId()) {
                addToUser(before.userId(), -1, before.total().negate());
                addToUser(order.userId(), 1, order.total());
            } else if (before.total().compareTo(order.total()) != 0) {
                addToUser(order.userId(), 0, order.total().subtract(before.total()));
            }
            current.put(order.orderId(), new Previous(order.userId(), order.category(), order.total(),
                    order.itemCount(), order.createdAt(), plan.counted()));
            rows.put(order.orderId(), new Row(order, processedAt, plan.counted(), input.partition(), input.offset()));
            changes.add(new Change(order, processedAt, input, plan.late()));
        }
        return this;
    }

    /** The stream time of each partition after the batch. */
    public Map<Integer, Instant> streamTime() {
        return streamTime;
    }

    private void addToUser(long userId, int orders, BigDecimal amount) {
        userDeltas.merge(userId, new UserDelta(orders, amount), UserDelta::plus);
    }
}
