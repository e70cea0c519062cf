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
     * @param late the changes that came after their window closed (not added)
     */
    public record Folded(Map<WindowKey, Delta> deltas, Map<String, Contribution> counted, List<OrderChange> late) {
    }

    private RevenueFold() {
    }

    /**
     * @param previous each changed order's contribution before the batch (absent: none)
     * @param changes the batch's changes of orders, in offset order within each partition
     */
    public static Folded fold(RevenueWindows windows, Map<String, Contribution> previous, List<OrderChange> changes) {
        Map<WindowKey, Delta> deltas = new TreeMap<>(WindowKey.ORDER);
        Map<String, Contribution> current = new HashMap<>(previous);
        Map<String, Contribution> counted = new LinkedHashMap<>();
        List<OrderChange> late = new ArrayList<>();
        for (OrderChange change : changes) {
            Contribution before = current.get(change.orderId());
            RevenueWindows.Plan plan = windows.plan(before, change.after().category(), change.after().createdAt(),
                    change.after().total(), change.streamTime());
            for (Delta delta : plan.deltas()) {
                deltas.merge(new WindowKey(delta.category(), delta.windowStart()), delta,
                        (a, b) -> new Delta(a.category(), a.windowStart(), a.revenue().add(b.revenue()),
                                a.orderCount() + b.orderCount()));
            }
            current.put(change.orderId(), plan.counted());
            if (!same(previous.get(change.orderId()), plan.counted())) {
                counted.put(change.orderId(), plan.counted());
            } else {
                counted.remove(change.orderId());
            }
            if (plan.late()) {
                late.add(change);
            }
        }
        return new Folded(deltas, counted, late);
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
