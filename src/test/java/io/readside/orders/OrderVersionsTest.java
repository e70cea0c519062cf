package io.readside.orders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import io.readside.projection.Batch;

/** The orders changelog's fold, with plain values: which records are changes, and what each change's before is. */
class OrderVersionsTest {

    private static final Instant AT = Instant.parse("2025-11-27T08:00:00Z");
    private static final Instant PROCESSED = Instant.parse("2025-11-27T08:00:01Z");

    @Test
    void aNewOrderIsAChangeFromNothing() {
        OrderVersions.Folded folded = OrderVersions.fold(Map.of(), List.of(input(order("a", 1, "books", "10.00"), 0, 5)),
                PROCESSED);

        assertEquals(1, folded.changes().size());
        OrderChange change = folded.changes().get(0);
        assertNull(change.before());
        assertEquals("a", change.orderId());
        assertEquals(0, change.partition());
        assertEquals(5, change.offset());
        assertEquals(PROCESSED, change.processedAt());
        assertEquals(5, folded.rows().get("a").offset());
    }

    @Test
    void anIdenticalCopyOfTheStoredVersionIsNoChange() {
        OrderEvent order = order("a", 1, "books", "10.00");
        Map<String, OrderEvent> stored = Map.of("a", version(1, "books", "10.0")); // 10.0 is 10.00

        OrderVersions.Folded folded = OrderVersions.fold(stored, List.of(input(order, 0, 6)), PROCESSED);

        assertEquals(List.of(), folded.changes());
        assertEquals(Map.of(), folded.rows());
    }

    @Test
    void aSecondVersionInTheSameBatchHasTheFirstAsItsBefore() {
        OrderEvent first = order("a", 1, "books", "10.00");
        OrderEvent second = order("a", 2, "games", "12.50");
        OrderEvent copyOfSecond = order("a", 2, "games", "12.5");

        OrderVersions.Folded folded = OrderVersions.fold(Map.of("a", version(7, "toys", "3.00")),
                List.of(input(first, 1, 10), input(second, 1, 11), input(copyOfSecond, 1, 12)), PROCESSED);

        assertEquals(2, folded.changes().size(), "the copy of the second version is no change");
        assertEquals(7, folded.changes().get(0).before().userId());
        assertSame(first, folded.changes().get(1).before());
        assertSame(second, folded.changes().get(1).after());
        assertEquals(1, folded.rows().size());
        assertEquals(11, folded.rows().get("a").offset(), "the row is the last version that changed something");
    }

    @Test
    void anItemCountAloneIsAChange() {
        OrderEvent withItems = withItems(new OrderEvent.Item("b-1", 3, null));

        OrderVersions.Folded folded = OrderVersions.fold(Map.of("a", version(1, "books", "10.00")),
                List.of(input(withItems, 0, 1)), PROCESSED);

        assertEquals(1, folded.changes().size());
    }

    @Test
    void itemsAreContentSoASkuOrPriceAloneIsAChangeAndAPriceWrittenWithAnotherScaleIsNot() {
        OrderEvent stored = withItems(new OrderEvent.Item("b-1", 2, new BigDecimal("5.00")));
        OrderEvent otherSku = withItems(new OrderEvent.Item("b-2", 2, new BigDecimal("5.00")));
        OrderEvent otherPrice = withItems(new OrderEvent.Item("b-1", 2, new BigDecimal("4.00")));
        OrderEvent noPrice = withItems(new OrderEvent.Item("b-1", 2, null));
        OrderEvent sameAsStored = withItems(new OrderEvent.Item("b-1", 2, new BigDecimal("5.0")));

        for (OrderEvent changed : List.of(otherSku, otherPrice, noPrice)) {
            assertEquals(1, OrderVersions.fold(Map.of("a", stored), List.of(input(changed, 0, 1)), PROCESSED)
                    .changes().size(), changed.items().toString());
        }
        OrderVersions.Folded copy = OrderVersions.fold(Map.of("a", stored), List.of(input(sameAsStored, 0, 1)),
                PROCESSED);
        assertEquals(List.of(), copy.changes());
    }

    @Test
    void aVersionStoredBeforeItemsWereKeptIsChangedByTheNextThatListsThemSoItsRowGetsThem() {
        // the row as V15 found it: item_count known, items not kept
        OrderEvent legacy = new OrderEvent("a", 1, "books", new BigDecimal("10.00"), 2, null, AT, null);
        OrderEvent sameCount = withItems(new OrderEvent.Item("b-1", 2, new BigDecimal("5.00")));

        OrderVersions.Folded folded = OrderVersions.fold(Map.of("a", legacy), List.of(input(sameCount, 0, 1)),
                PROCESSED);
        assertEquals(1, folded.changes().size(), "a SKU swap would otherwise be lost, and a rebuild differ");
        assertSame(sameCount, folded.rows().get("a").order());
    }

    private static OrderEvent withItems(OrderEvent.Item... items) {
        int count = 0;
        for (OrderEvent.Item item : items) {
            count += item.qty();
        }
        return new OrderEvent("a", 1, "books", new BigDecimal("10.00"), count, List.of(items), AT, bytes("a"));
    }

    private static OrderEvent version(long user, String category, String total) {
        return new OrderEvent("a", user, category, new BigDecimal(total), null, null, AT, null);
    }

    private static OrderEvent order(String id, long user, String category, String total) {
        return new OrderEvent(id, user, category, new BigDecimal(total), null, null, AT, bytes(id));
    }

    private static byte[] bytes(String id) {
        return ("{\"order_id\":\"" + id + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    private static Batch.Input<OrderEvent> input(OrderEvent order, int partition, long offset) {
        return new Batch.Input<>(order, new ConsumerRecord<>("orders", partition, offset, order.orderId().getBytes(
                StandardCharsets.UTF_8), order.value()), AT);
    }
}
