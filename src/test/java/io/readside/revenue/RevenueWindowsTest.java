package io.readside.revenue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.readside.revenue.RevenueWindows.Contribution;
import io.readside.revenue.RevenueWindows.Delta;
import io.readside.revenue.RevenueWindows.Plan;

/** Pure logic: tumbling windows by event time, grace against stream time, and what a new version of an order moves. */
class RevenueWindowsTest {

    private final RevenueWindows windows = new RevenueWindows(Duration.ofSeconds(60), Duration.ofMinutes(5));

    private static final Instant T = Instant.parse("2025-11-27T08:00:00Z");

    @Test
    void eventTimesFallIntoTheirMinute() {
        assertEquals(T, windows.windowStart(T));
        assertEquals(T, windows.windowStart(T.plusMillis(59_999)));
        assertEquals(T.plusSeconds(60), windows.windowStart(T.plusSeconds(60)));
        assertEquals(T.plusSeconds(60), windows.windowEnd(T));
    }

    @Test
    void aWindowTakesLateOrdersUntilItsEndPlusGrace() {
        assertTrue(windows.open(T, T.plusSeconds(60 + 299)));
        assertFalse(windows.open(T, T.plusSeconds(60 + 300)));
    }

    @Test
    void aNewOrderIsAddedToItsWindow() {
        Plan plan = windows.plan(null, "books", T.plusSeconds(10), new BigDecimal("12.50"), T.plusSeconds(10));

        assertEquals(List.of(new Delta("books", T, new BigDecimal("12.50"), 1)), plan.deltas());
        assertEquals(new Contribution("books", T, new BigDecimal("12.50")), plan.counted());
        assertFalse(plan.late());
    }

    @Test
    void anIdenticalCopyMovesNothing() {
        Contribution counted = new Contribution("books", T, new BigDecimal("12.50"));

        Plan plan = windows.plan(counted, "books", T.plusSeconds(10), new BigDecimal("12.5"), T.plusSeconds(30));

        assertEquals(List.of(), plan.deltas());
        assertEquals(counted, plan.counted());
    }

    @Test
    void aCorrectionMovesTheAmountBetweenCategoriesAndWindows() {
        Contribution counted = new Contribution("toys", T, new BigDecimal("10.00"));

        Plan plan = windows.plan(counted, "books", T.plusSeconds(70), new BigDecimal("15.00"), T.plusSeconds(70));

        assertEquals(List.of(
                new Delta("books", T.plusSeconds(60), new BigDecimal("15.00"), 1),
                new Delta("toys", T, new BigDecimal("-10.00"), -1)), plan.deltas());
    }

    @Test
    void anOrderPastGraceIsLateAndCountedNowhere() {
        Plan plan = windows.plan(null, "books", T, new BigDecimal("5.00"), T.plusSeconds(360));

        assertEquals(List.of(), plan.deltas());
        assertNull(plan.counted());
        assertTrue(plan.late());
    }

    @Test
    void revenueCountedInAClosedWindowStaysThere() {
        Contribution counted = new Contribution("books", T, new BigDecimal("10.00"));

        Plan plan = windows.plan(counted, "books", T.plusSeconds(400), new BigDecimal("20.00"), T.plusSeconds(400));

        assertEquals(List.of(), plan.deltas());
        assertEquals(counted, plan.counted());
        assertTrue(plan.late());
    }

    @Test
    void anOrderThatCameLateCountsWhenACorrectionLandsInAnOpenWindow() {
        Plan plan = windows.plan(null, "books", T.plusSeconds(400), new BigDecimal("20.00"), T.plusSeconds(400));

        assertEquals(List.of(new Delta("books", T.plusSeconds(360), new BigDecimal("20.00"), 1)), plan.deltas());
        assertFalse(plan.late());
    }
}
