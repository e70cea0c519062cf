package io.readside.skus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.readside.orders.OrderChange;
import io.readside.orders.OrderEvent;
import io.readside.orders.OrderEvent.Item;

/** The skus fold with plain values: the adder for after, the subtractor for before, per SKU and per minute. */
class SkuFoldTest {

    private static final Instant AT = Instant.parse("2026-12-06T10:15:42Z");
    private static final Instant MINUTE = Instant.parse("2026-12-06T10:15:00Z");

    @Test
    void anItemCountsItsUnitsAndQuantityTimesPriceAndAnOrderOncePerSku() {
        OrderEvent order = order("o-1", AT, List.of(item("b-1", 2, "6.25"), item("b-1", 1, "1.50"),
                item("b-2", 3, null), item(null, 5, "9.99")));

        SkuFold.Folded folded = SkuFold.fold(List.of(change(null, order)));

        assertEquals(Map.of("b-1", sum(3, "14.00", 1), "b-2", sum(3, "0", 1)), normal(folded.totals()),
                "no price: units, no revenue; no sku: nowhere");
        assertEquals(sum(3, "14.00", 0), normal(folded.minutes()).get(new SkuFold.Minute(MINUTE, "b-1")));
        assertEquals(2, folded.minutes().size());
    }

    @Test
    void aCorrectionMovesExactlyTheDifferenceASkuSwapAtTheSameTotalIncluded() {
        OrderEvent before = order("o-1", AT, List.of(item("b-1", 2, "5.00")));
        OrderEvent after = order("o-1", AT, List.of(item("b-2", 2, "5.00")));

        SkuFold.Folded folded = SkuFold.fold(List.of(change(before, after)));

        assertEquals(Map.of("b-1", sum(-2, "-10.00", -1), "b-2", sum(2, "10.00", 1)), normal(folded.totals()));
    }

    @Test
    void aNewEventTimeMovesTheUnitsToItsMinuteAndANewAndItsCorrectionInOneBatchNet() {
        OrderEvent first = order("o-1", AT, List.of(item("b-1", 1, "2.00")));
        OrderEvent later = order("o-1", AT.plusSeconds(120), List.of(item("b-1", 1, "2.00")));

        SkuFold.Folded folded = SkuFold.fold(List.of(change(null, first), change(first, later)));

        assertEquals(Map.of("b-1", sum(1, "2.00", 1)), normal(folded.totals()));
        assertEquals(Map.of(new SkuFold.Minute(MINUTE, "b-1"), sum(0, "0", 0),
                new SkuFold.Minute(MINUTE.plusSeconds(120), "b-1"), sum(1, "2.00", 0)), normal(folded.minutes()),
                "the minute it left keeps a row at zero, as it would after two batches");
    }

    @Test
    void anOrderWithoutItemsAddsAndSubtractsNothing() {
        OrderEvent none = order("o-1", AT, null);
        OrderEvent listed = order("o-1", AT, List.of(item("b-1", 1, "1.00")));

        assertTrue(SkuFold.fold(List.of(change(null, none))).totals().isEmpty());
        assertEquals(Map.of("b-1", sum(1, "1.00", 1)), normal(SkuFold.fold(List.of(change(none, listed))).totals()),
                "a before without items (none listed, or stored before items were kept) subtracts nothing");
    }

    private static OrderChange change(OrderEvent before, OrderEvent after) {
        return new OrderChange(before, after, 0, 0, after.createdAt(), AT);
    }

    private static OrderEvent order(String id, Instant createdAt, List<Item> items) {
        return new OrderEvent(id, 1, "books", BigDecimal.TEN, items == null ? null : items.size(), items, createdAt,
                null);
    }

    private static Item item(String sku, int qty, String price) {
        return new Item(sku, qty, price == null ? null : new BigDecimal(price));
    }

    private static SkuFold.Sum sum(long units, String revenue, int orders) {
        return new SkuFold.Sum(units, new BigDecimal(revenue).stripTrailingZeros(), orders);
    }

    /** Revenue compared as a number (14.00 is 14.0). */
    private static <K> Map<K, SkuFold.Sum> normal(Map<K, SkuFold.Sum> sums) {
        Map<K, SkuFold.Sum> normal = new java.util.HashMap<>();
        sums.forEach((key, sum) -> normal.put(key, new SkuFold.Sum(sum.units(), sum.revenue().stripTrailingZeros(),
                sum.orders())));
        return normal;
    }
}
