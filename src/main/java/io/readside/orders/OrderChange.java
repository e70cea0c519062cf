package io.readside.orders;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Objects;

/**
 * One change of the orders changelog: an order's version before (null: a new order) and after a record, as the read
 * models derived from orders see it. An identical copy of the current version is no change and never appears.
 *
 * @param before the version the read model had (null: none)
 * @param after the new version, with the record's bytes
 * @param partition the partition of the record that made the change
 * @param offset the record's offset
 * @param streamTime the partition's stream time including this order's event time
 * @param processedAt when the change was folded (microseconds)
 */
public record OrderChange(Version before, OrderEvent after, int partition, long offset, Instant streamTime,
        Instant processedAt) {

    /** What the {@code orders} table holds of a version (money exact, {@code itemCount} null when unknown). */
    public record Version(long userId, String category, BigDecimal total, Integer itemCount, Instant createdAt) {

        public static Version of(OrderEvent order) {
            return new Version(order.userId(), order.category(), order.total(), order.itemCount(), order.createdAt());
        }

        /** Equal in every column (totals compared as numbers: 10.5 is 10.50). */
        public boolean sameAs(Version other) {
            return userId == other.userId && category.equals(other.category) && total.compareTo(other.total) == 0
                    && Objects.equals(itemCount, other.itemCount) && createdAt.equals(other.createdAt);
        }
    }

    public String orderId() {
        return after.orderId();
    }
}
