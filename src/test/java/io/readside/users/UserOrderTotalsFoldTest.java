package io.readside.users;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.readside.orders.OrderChange;
import io.readside.orders.OrderEvent;
import io.readside.users.UserOrderTotals.Delta;

/** Users' order totals as an adder/subtractor over the orders changelog, with plain values. */
class UserOrderTotalsFoldTest {

    private static final Instant T = Instant.parse("2025-11-27T08:00:00Z");

    @Test
    void aNewOrderCountsOnceForItsUser() {
        assertEquals(Map.of(7L, new Delta(1, new BigDecimal("10.00"))),
                UserOrderTotals.fold(List.of(change(null, 7, "10.00"))));
    }

    @Test
    void aCorrectedTotalMovesByTheDifference() {
        Map<Long, Delta> deltas = UserOrderTotals.fold(List.of(change(version(7, "10.00"), 7, "12.50")));

        assertEquals(0, deltas.get(7L).orders());
        assertEquals(0, new BigDecimal("2.50").compareTo(deltas.get(7L).amount()));
    }

    @Test
    void anOrderMovedToAnotherUserMovesWholeAndTheLowerIdComesFirst() {
        Map<Long, Delta> deltas = UserOrderTotals.fold(List.of(change(version(9, "10.00"), 3, "10.00")));

        assertEquals(List.of(3L, 9L), List.copyOf(deltas.keySet()));
        assertEquals(new Delta(1, new BigDecimal("10.00")), deltas.get(3L));
        assertEquals(new Delta(-1, new BigDecimal("-10.00")), deltas.get(9L));
    }

    @Test
    void aBatchOfVersionsSumsToTheLastOne() {
        Map<Long, Delta> deltas = UserOrderTotals.fold(List.of(change(null, 7, "10.00"),
                change(version(7, "10.00"), 7, "11.00"), change(version(7, "11.00"), 7, "4.00")));

        assertEquals(1, deltas.get(7L).orders());
        assertEquals(0, new BigDecimal("4.00").compareTo(deltas.get(7L).amount()));
    }

    private static OrderEvent version(long user, String total) {
        return new OrderEvent("a", user, "books", new BigDecimal(total), null, null, T, null);
    }

    private static OrderChange change(OrderEvent before, long user, String total) {
        OrderEvent after = new OrderEvent("a", user, "books", new BigDecimal(total), null, null, T,
                "{}".getBytes(StandardCharsets.UTF_8));
        return new OrderChange(before, after, 0, 0, T, T);
    }
}
