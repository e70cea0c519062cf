package io.readside.orders;

import java.time.Instant;

/**
 * One change of the orders changelog: an order's version before (null: a new order) and after a record, as the read
 * models derived from orders see it. Both are whole events (items included), so a subtractor sees everything the
 * adder saw. A copy with the same content as the current version ({@link OrderEvent#sameContent}) is no change and
 * never appears; any other version is one.
 *
 * @param before the version the read model had (null: none), read back from the orders table: every field, no
 *            record bytes ({@code value} null)
 * @param after the new version, with the record's bytes
 * @param partition the partition of the record that made the change
 * @param offset the record's offset
 * @param streamTime the partition's stream time including this order's event time
 * @param processedAt when the change was folded (microseconds)
 */
public record OrderChange(OrderEvent before, OrderEvent after, int partition, long offset, Instant streamTime,
        Instant processedAt) {

    public String orderId() {
        return after.orderId();
    }
}
