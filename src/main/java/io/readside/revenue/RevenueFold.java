package io.readside.revenue;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

import io.readside.orders.OrderChange;
import io.readside.revenue.RevenueWindows.Contribution;
import io.readside.revenue.RevenueWindows.Delta;

/**
 * Revenue per category and event-time window as a table aggregation over the orders changelog: for each change the
 * subtractor takes out what the order had counted (its contribution) and the adder puts in the new version's, while
 * their windows are open ({@link RevenueWindows}). Folded in offset order exactly as one change after the other, and
 * summed per window so that each window is written once. Pure logic, no I/O.
 */
public final class RevenueFold {

    /** A window, in the order windows are written (category, then start: one lock order between writers). */
    public record WindowKey(String category, Instant windowStart) {
        static final Comparator<WindowKey> ORDER = Comparator.comparing(WindowKey::category)
                .thenComparing(WindowKey::windowStart);
    }

    /**
     * @param deltas the summed change of every window the changes touched (also those that sum to zero)
     * @param counted each order whose contribution changed, with its new one (null: it counts nowhere now)
     * @param countedOn for each order in {@code counted} that counts somewhere, the partition whose clock counted it
     * @param late the changes that came after their window closed (not added)
     */
    public record Folded(Map<WindowKey, Delta> deltas, Map<String, Contribution> counted,
            Map<String, Integer> countedOn, List<OrderChange> late) {
    }

    private RevenueFold() {
    }

    /** As {@link #fold(RevenueWindows, Map, Map, Map, List)}, each previous contribution judged by the change's clock. */
    public static Folded fold(RevenueWindows windows, Map<String, Contribution> previous, List<OrderChange> changes) {
        return fold(windows, previous, Map.of(), Map.of(), changes);
    }

    /**
     * @param previous each changed order's contribution before the batch (absent: none)
     * @param previousOn the partition that counted each previous contribution (absent: unknown, judged by the clock of
     *        the change's own partition)
     * @param clocks the stream time of the partitions that counted them, before the batch (those the batch moves
     *        move with it)
     * @param changes the batch's changes of orders, in offset order within each partition
     */
    public static Folded fold(RevenueWindows windows, Map<String, Contribution> previous,
            Map<String, Integer> previousOn, Map<Integer, Instant> clocks, List<OrderChange> changes) {
        Map<WindowKey, Delta> deltas = new TreeMap<>(WindowKey.ORDER);
        Map<String, Contribution> current = new HashMap<>(previous);
        Map<String, Integer> currentOn = new HashMap<>(previousOn);
        Map<Integer, Instant> streamTimes = new HashMap<>(clocks);
        Map<String, Contribution> counted = new LinkedHashMap<>();
        List<OrderChange> late = new ArrayList<>();
        for (OrderChange change : changes) {
            int partition = change.partition();
            if (change.streamTime() != null) {
                streamTimes.merge(partition, change.streamTime(), (a, b) -> a.isAfter(b) ? a : b);
            }
            Contribution before = current.get(change.orderId());
            Integer on = currentOn.get(change.orderId());
            Instant previousClock = on == null || on == partition ? change.streamTime()
                    : streamTimes.getOrDefault(on, change.streamTime());
            RevenueWindows.Plan plan = windows.plan(before, previousClock, change.after().category(),
                    change.after().createdAt(), change.after().total(), change.streamTime());
            for (Delta delta : plan.deltas()) {
                deltas.merge(new WindowKey(delta.category(), delta.windowStart()), delta,
                        (a, b) -> new Delta(a.category(), a.windowStart(), a.revenue().add(b.revenue()),
                                a.orderCount() + b.orderCount()));
            }
            current.put(change.orderId(), plan.counted());
            if (plan.counted() == null) {
                currentOn.remove(change.orderId());
            } else if (plan.counted() != before) { // counted anew by this change's clock
                currentOn.put(change.orderId(), partition);
            }
            if (!same(previous.get(change.orderId()), plan.counted())
                    || !Objects.equals(previousOn.get(change.orderId()), currentOn.get(change.orderId()))) {
                counted.put(change.orderId(), plan.counted());
            } else {
                counted.remove(change.orderId());
            }
            if (plan.late()) {
                late.add(change);
            }
        }
        Map<String, Integer> countedOn = new HashMap<>();
        counted.forEach((orderId, contribution) -> {
            if (contribution != null) {
                countedOn.put(orderId, currentOn.get(orderId));
            }
        });
        return new Folded(deltas, counted, countedOn, late);
    }

    private static boolean same(Contribution a, Contribution b) {
        if (a == null || b == null) {
            return a == b;
        }
        return a.category().equals(b.category()) && a.windowStart().equals(b.windowStart())
                && compare(a.amount(), b.amount());
    }

    private static boolean compare(BigDecimal a, BigDecimal b) {
        return Objects.equals(a, b) || a.compareTo(b) == 0;
    }
}
