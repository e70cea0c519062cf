package io.readside.orders;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The test's own fold of the orders topic, written apart from the service's code: what the read models must hold
 * after a partition's records are applied in offset order. Rules: 60 s tumbling windows by event time; a window
 * takes an order while the partition's latest event time is before window end + 300 s; a later copy of an order
 * moves users and windows by the difference; revenue in a window that has closed stays there.
 */
public final class OrdersFold {

    static final long WINDOW_SECONDS = 60;
    static final long GRACE_SECONDS = 300;

    /** {@code offset}: the record (in the order's partition) that last changed the order. */
    public record Order(long userId, String category, BigDecimal total, Integer itemCount, Instant createdAt,
            String windowCategory, Instant windowStart, BigDecimal windowAmount, long offset) {
    }

    public final Map<String, Order> orders = new HashMap<>();
    /** "category|windowStart" -> revenue and order count */
    public final Map<String, BigDecimal[]> windows = new TreeMap<>();
    public final Map<Long, BigDecimal[]> users = new TreeMap<>();
    public final Map<Integer, Instant> streamTime = new HashMap<>();
    public int late;
    /** records that changed an order (each one is published to processed-orders) */
    public int changes;

    public void apply(int partition, long offset, String orderId, long userId, String category, BigDecimal total,
            Integer itemCount, Instant createdAt) {
        Instant now = streamTime.merge(partition, createdAt, (a, b) -> a.isAfter(b) ? a : b);
        Order before = orders.get(orderId);
        if (before != null && before.userId() == userId && before.category().equals(category)
                && before.total().compareTo(total) == 0 && Objects.equals(before.itemCount(), itemCount)
                && before.createdAt().equals(createdAt)) {
            return;
        }
        changes++;
        if (before != null) {
            add(users, before.userId(), before.total().negate(), -1);
        }
        add(users, userId, total, 1);

        Instant start = Instant.ofEpochSecond(Math.floorDiv(createdAt.getEpochSecond(), WINDOW_SECONDS) * WINDOW_SECONDS);
        boolean beforeCounted = before != null && before.windowCategory() != null;
        boolean beforeOpen = beforeCounted && open(before.windowStart(), now);
        if (beforeCounted && !beforeOpen) {
            boolean same = before.windowCategory().equals(category) && before.windowStart().equals(start)
                    && before.windowAmount().compareTo(total) == 0;
            if (!same) {
                late++;
            }
            orders.put(orderId, new Order(userId, category, total, itemCount, createdAt, before.windowCategory(),
                    before.windowStart(), before.windowAmount(), offset));
            return;
        }
        if (beforeCounted) {
            add(windows, before.windowCategory() + "|" + before.windowStart(), before.windowAmount().negate(), -1);
        }
        if (open(start, now)) {
            add(windows, category + "|" + start, total, 1);
            orders.put(orderId, new Order(userId, category, total, itemCount, createdAt, category, start, total,
                    offset));
        } else {
            late++;
            orders.put(orderId, new Order(userId, category, total, itemCount, createdAt, null, null, null, offset));
        }
    }

    /** Open while the stream time is strictly before window end + grace. */
    private static boolean open(Instant windowStart, Instant streamTime) {
        return Instant.ofEpochSecond(windowStart.getEpochSecond() + WINDOW_SECONDS + GRACE_SECONDS)
                .isAfter(streamTime);
    }

    /** Windows with at least one order, as "revenue|count". */
    public Map<String, String> windowFigures() {
        Map<String, String> figures = new TreeMap<>();
        windows.forEach((window, sums) -> {
            if (sums[1].signum() > 0) {
                figures.put(window, sums[0].setScale(2).toPlainString() + "|" + sums[1].intValue());
            }
        });
        return figures;
    }

    private static <K> void add(Map<K, BigDecimal[]> sums, K key, BigDecimal amount, int count) {
        BigDecimal[] sum = sums.computeIfAbsent(key, k -> new BigDecimal[] { BigDecimal.ZERO, BigDecimal.ZERO });
        sum[0] = sum[0].add(amount);
        sum[1] = sum[1].add(BigDecimal.valueOf(count));
    }
}
