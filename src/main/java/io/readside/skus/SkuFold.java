package io.readside.skus;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.readside.orders.OrderChange;
import io.readside.orders.OrderEvent;

/**
 * The fold of the skus read model (pure): for each change, the items of {@code before} are subtracted and those of
 * {@code after} added, per SKU (totals) and per SKU and minute of the order's event time. An item counts {@code qty}
 * units and {@code qty * price} revenue; without a {@code price} it counts its units and no revenue; without a
 * {@code sku} it counts nowhere. An order counts once per SKU it lists ({@code orders}), however many lines name it.
 * An order that lists no items (or one stored before the orders table kept them) adds and subtracts nothing.
 */
public final class SkuFold {

    /** What a set of changes adds to one SKU (negative: what it takes away). */
    public record Sum(long units, BigDecimal revenue, int orders) {
        static final Sum NONE = new Sum(0, BigDecimal.ZERO, 0);

        Sum plus(Sum other) {
            return new Sum(units + other.units, revenue.add(other.revenue), orders + other.orders);
        }

        Sum negated() {
            return new Sum(-units, revenue.negate(), -orders);
        }
    }

    /** A SKU in one minute (the minute the order was created in, UTC). */
    public record Minute(Instant minute, String sku) implements Comparable<Minute> {
        @Override
        public int compareTo(Minute other) {
            int byMinute = minute.compareTo(other.minute);
            return byMinute != 0 ? byMinute : sku.compareTo(other.sku);
        }
    }

    /** Per SKU and per minute, sorted by key (the lock order of the writes); every key a change touched is there. */
    public record Folded(Map<String, Sum> totals, Map<Minute, Sum> minutes) {
    }

    /** An item without a price adds no revenue, at money's scale (a SKU sold only without prices answers 0.00). */
    private static final BigDecimal NO_REVENUE = BigDecimal.ZERO.setScale(2);

    private SkuFold() {
    }

    public static Folded fold(List<OrderChange> changes) {
        Map<String, Sum> totals = new TreeMap<>();
        Map<Minute, Sum> minutes = new TreeMap<>();
        for (OrderChange change : changes) {
            if (change.before() != null) {
                add(totals, minutes, change.before(), true);
            }
            add(totals, minutes, change.after(), false);
        }
        return new Folded(totals, minutes);
    }

    private static void add(Map<String, Sum> totals, Map<Minute, Sum> minutes, OrderEvent order, boolean subtract) {
        if (order.items() == null) {
            return;
        }
        Instant minute = order.createdAt().truncatedTo(ChronoUnit.MINUTES);
        Map<String, Sum> bySku = new TreeMap<>();
        for (OrderEvent.Item item : order.items()) {
            if (item.sku() == null) {
                continue;
            }
            BigDecimal revenue = item.price() == null ? NO_REVENUE : item.price().multiply(BigDecimal.valueOf(item.qty()));
            bySku.merge(item.sku(), new Sum(item.qty(), revenue, 0), Sum::plus);
        }
        bySku.forEach((sku, sum) -> {
            Sum counted = new Sum(sum.units(), sum.revenue(), 1);
            Sum signed = subtract ? counted.negated() : counted;
            totals.merge(sku, signed, Sum::plus);
            minutes.merge(new Minute(minute, sku), new Sum(signed.units(), signed.revenue(), 0), Sum::plus);
        });
    }
}
