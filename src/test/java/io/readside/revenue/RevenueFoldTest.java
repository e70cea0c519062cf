package io.readside.revenue;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.readside.orders.OrderChange;
import io.readside.orders.OrderEvent;
import io.readside.revenue.RevenueFold.WindowKey;
import io.readside.revenue.RevenueWindows.Contribution;
import io.readside.revenue.RevenueWindows.Delta;

/** Revenue as an adder/subtractor over the orders changelog, with plain values: what each window moves by. */
class RevenueFoldTest {

    private final RevenueWindows windows = new RevenueWindows(Duration.ofSeconds(60), Duration.ofMinutes(5));

    private static final Instant T = Instant.parse("2025-11-27T08:00:00Z");

    @Test
    void newOrdersInOneWindowAreSummedIntoOneDelta() {
        RevenueFold.Folded folded = RevenueFold.fold(windows, Map.of(), List.of(
                change("a", "books", "10.00", T.plusSeconds(1)),
                change("b", "books", "2.50", T.plusSeconds(2))));

        assertEquals(Map.of(new WindowKey("books", T), new Delta("books", T, new BigDecimal("12.50"), 2)),
                folded.deltas());
        assertEquals(Map.of("a", contribution("books", T, "10.00"), "b", contribution("books", T, "2.50")),
                folded.counted());
    }

    @Test
    void aCorrectionSubtractsWhatTheOrderCountedAndAddsTheNewVersion() {
        Map<String, Contribution> stored = Map.of("a", contribution("books", T, "10.00"));

        RevenueFold.Folded folded = RevenueFold.fold(windows, stored, List.of(
                change("a", "games", "4.00", T.plusSeconds(70))));

        assertEquals(List.of(new Delta("books", T, new BigDecimal("-10.00"), -1),
                new Delta("games", T.plusSeconds(60), new BigDecimal("4.00"), 1)),
                List.copyOf(folded.deltas().values()), "windows in (category, start) order: the lock order");
        assertEquals(Map.of("a", contribution("games", T.plusSeconds(60), "4.00")), folded.counted());
    }

    @Test
    void twoVersionsInOneBatchMoveExactlyTheDifferenceAndAWindowThatSumsToZeroIsStillWritten() {
        RevenueFold.Folded folded = RevenueFold.fold(windows, Map.of(), List.of(
                change("a", "books", "10.00", T.plusSeconds(1)),
                change("a", "books", "10.00", T.plusSeconds(61)),
                change("a", "books", "10.00", T.plusSeconds(2))));

        assertEquals(new Delta("books", T, new BigDecimal("10.00"), 1), folded.deltas().get(new WindowKey("books", T)));
        assertEquals(new Delta("books", T.plusSeconds(60), new BigDecimal("0.00"), 0),
                folded.deltas().get(new WindowKey("books", T.plusSeconds(60))));
        assertEquals(Map.of("a", contribution("books", T, "10.00")), folded.counted());
    }

    @Test
    void anOrderPastGraceIsLateCountedNowhereAndReported() {
        OrderChange late = change("late", "books", "9.00", T, T.plusSeconds(60 + 300));

        RevenueFold.Folded folded = RevenueFold.fold(windows, Map.of(), List.of(late));

        assertEquals(Map.of(), folded.deltas());
        assertEquals(List.of(late), folded.late());
        assertEquals(Map.of(), folded.counted(), "it counted nowhere before either: nothing to store");
    }

    @Test
    void aCorrectionThatComesLateTakesTheOldRevenueOutOfAnOpenWindow() {
        Map<String, Contribution> stored = Map.of("a", contribution("books", T.plusSeconds(600), "10.00"));
        OrderChange movedIntoAClosedWindow = change("a", "books", "10.00", T, T.plusSeconds(600));

        RevenueFold.Folded folded = RevenueFold.fold(windows, stored, List.of(movedIntoAClosedWindow));

        assertEquals(List.of(new Delta("books", T.plusSeconds(600), new BigDecimal("-10.00"), -1)),
                List.copyOf(folded.deltas().values()));
        java.util.HashMap<String, Contribution> none = new java.util.HashMap<>();
        none.put("a", null);
        assertEquals(none, folded.counted(), "its stored contribution goes");
        assertEquals(List.of(movedIntoAClosedWindow), folded.late());
    }

    @Test
    void aCorrectionOnAnotherPartitionIsJudgedByTheClockOfThePartitionThatCountedTheOrder() {
        Map<String, Contribution> stored = Map.of("a", contribution("books", T, "10.00"));
        // partition 0 counted it and has since moved 10 minutes on; partition 1's clock is the correction's own
        OrderChange correction = change("a", "books", "15.00", T.plusSeconds(10), T.plusSeconds(10), 1);

        RevenueFold.Folded closed = RevenueFold.fold(windows, stored, Map.of("a", 0), Map.of(0, T.plusSeconds(600)),
                List.of(correction));
        assertEquals(Map.of(), closed.deltas(), "the window partition 0 closed keeps what it counted");
        assertEquals(List.of(correction), closed.late());

        RevenueFold.Folded open = RevenueFold.fold(windows, stored, Map.of("a", 0), Map.of(0, T.plusSeconds(30)),
                List.of(correction));
        assertEquals(List.of(new Delta("books", T, new BigDecimal("5.00"), 0)), List.copyOf(open.deltas().values()));
        assertEquals(Map.of("a", 1), open.countedOn(), "counted anew by partition 1's clock");
    }

    private static Contribution contribution(String category, Instant start, String amount) {
        return new Contribution(category, start, new BigDecimal(amount));
    }

    private static OrderChange change(String id, String category, String total, Instant eventTime) {
        return change(id, category, total, eventTime, eventTime);
    }

    private static OrderChange change(String id, String category, String total, Instant eventTime,
            Instant streamTime) {
        return change(id, category, total, eventTime, streamTime, 0);
    }

    private static OrderChange change(String id, String category, String total, Instant eventTime,
            Instant streamTime, int partition) {
        OrderEvent after = new OrderEvent(id, 1, category, new BigDecimal(total), null, null, eventTime,
                "{}".getBytes(StandardCharsets.UTF_8));
        return new OrderChange(null, after, partition, 0, streamTime, streamTime);
    }
}
