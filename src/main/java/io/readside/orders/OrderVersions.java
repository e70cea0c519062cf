package io.readside.orders;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.readside.projection.Batch;

/**
 * The orders changelog's fold: a batch of order versions, in offset order, against the versions the table has,
 * gives each change {@code (before, after)} exactly as one record after the other would (a second version of the
 * same order in the batch has the first as its {@code before}; a copy with the same content is no change), and the
 * final row of every order the batch changed. Pure logic, no I/O.
 */
public final class OrderVersions {

    /** The final version of an order after the batch, and the record it came from. */
    public record Row(OrderEvent order, Instant processedAt, int partition, long offset) {
    }

    /** The changes in offset order, and one row per changed order (in first-change order). */
    public record Folded(List<OrderChange> changes, Map<String, Row> rows) {
    }

    private OrderVersions() {
    }

    /**
     * @param previous the batch's orders as the table has them (absent: new)
     * @param inputs order versions with their records and stream time, in offset order within each partition
     */
    public static Folded fold(Map<String, OrderEvent> previous, List<Batch.Input<OrderEvent>> inputs,
            Instant processedAt) {
        Map<String, OrderEvent> current = new HashMap<>(previous);
        List<OrderChange> changes = new ArrayList<>();
        Map<String, Row> rows = new LinkedHashMap<>();
        for (Batch.Input<OrderEvent> input : inputs) {
            OrderEvent order = input.event();
            OrderEvent before = current.get(order.orderId());
            if (before != null && before.sameContent(order)) {
                continue;
            }
            current.put(order.orderId(), order);
            changes.add(new OrderChange(before, order, input.partition(), input.offset(), input.streamTime(),
                    processedAt));
            rows.put(order.orderId(), new Row(order, processedAt, input.partition(), input.offset()));
        }
        return new Folded(changes, rows);
    }
}
