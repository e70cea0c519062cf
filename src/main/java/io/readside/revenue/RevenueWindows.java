package io.readside.revenue;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Tumbling event-time windows and what one order does to them. Pure logic, no I/O.
 * <p>
 * A window {@code [start, start + size)} is open while the partition's stream time (the latest event time applied
 * from it) is before {@code start + size + grace}. An order counts in its window while that is open; past it the
 * order is late: it is not added, and is reported. Closed windows are final: an order counted in a closed window
 * keeps its revenue there, even when a later copy of it says otherwise.
 */
public final class RevenueWindows {

    /** The revenue an order has in one window. */
    public record Contribution(String category, Instant windowStart, BigDecimal amount) {
    }

    /** A change to add to a window. */
    public record Delta(String category, Instant windowStart, BigDecimal revenue, int orderCount) {
    }

    /**
     * What to write: the deltas (in a fixed order, so that concurrent writers lock rows alike), the contribution the
     * order has afterwards, and whether its new version came past grace.
     */
    public record Plan(List<Delta> deltas, Contribution counted, boolean late) {
    }

    private final long sizeMillis;
    private final Duration size;
    private final Duration grace;

    public RevenueWindows(Duration size, Duration grace) {
        if (size.isZero() || size.isNegative() || grace.isNegative()) {
            throw new IllegalArgumentException("window size must be positive and grace not negative");
        }
        this.size = size;
        this.sizeMillis = size.toMillis();
        this.grace = grace;
    }

    public Instant windowStart(Instant eventTime) {
        return Instant.ofEpochMilli(Math.floorDiv(eventTime.toEpochMilli(), sizeMillis) * sizeMillis);
    }

    public Instant windowEnd(Instant windowStart) {
        return windowStart.plus(size);
    }

    public boolean open(Instant windowStart, Instant streamTime) {
        return windowStart.plus(size).plus(grace).isAfter(streamTime);
    }

    /**
     * @param previous what the order has counted so far (null: a new order, or one that came late before)
     * @param streamTime the partition's stream time including this order's event time
     */
    public Plan plan(Contribution previous, String category, Instant eventTime, BigDecimal total,
            Instant streamTime) {
        return plan(previous, streamTime, category, eventTime, total, streamTime);
    }

    /**
     * @param previous what the order has counted so far (null: a new order, or one that came late before)
     * @param previousClock the stream time of the partition that counted {@code previous}: whether its window is still
     *        open (the subtractor may take it out) is that clock's to say
     * @param streamTime the stream time of this version's partition, including its event time
     */
    public Plan plan(Contribution previous, Instant previousClock, String category, Instant eventTime,
            BigDecimal total, Instant streamTime) {
        Instant start = windowStart(eventTime);
        Contribution wanted = new Contribution(category, start, total);
        if (previous != null && !open(previous.windowStart(), previousClock)) {
            // the revenue stays where it was counted; a different new version is late
            return new Plan(List.of(), previous, !same(previous, wanted));
        }
        boolean late = !open(start, streamTime);
        Contribution counted = late ? null : same(previous, wanted) ? previous : wanted;
        List<Delta> deltas = new ArrayList<>(2);
        if (previous != null && !same(previous, counted)) {
            deltas.add(new Delta(previous.category(), previous.windowStart(), previous.amount().negate(), -1));
        }
        if (counted != null && !same(previous, counted)) {
            deltas.add(new Delta(counted.category(), counted.windowStart(), counted.amount(), 1));
        }
        deltas.sort((a, b) -> a.category().equals(b.category())
                ? a.windowStart().compareTo(b.windowStart())
                : a.category().compareTo(b.category()));
        return new Plan(deltas, counted, late);
    }

    private static boolean same(Contribution a, Contribution b) {
        if (a == null || b == null) {
            return a == b;
        }
        return a.category().equals(b.category()) && a.windowStart().equals(b.windowStart())
                && a.amount().compareTo(b.amount()) == 0;
    }
}
