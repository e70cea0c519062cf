package io.readside.orders;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.vertx.pgclient.PgException;

/** What a stopped read model missed, kept and read back as it would have been handed live; which failures stop it. */
class ReadModelBacklogTest {

    private static final Instant AT = Instant.parse("2026-12-06T10:00:00.123456Z");

    @Test
    void aChangeReadBackIsTheChangeWrittenBytesMoneyAndTimesExact() {
        byte[] value = "{\"order_id\":\"o-1\",\"total\":1E+2,\"x\":\"\u00e9\"}".getBytes(StandardCharsets.UTF_8);
        OrderEvent before = new OrderEvent("o-1", 7, "books", new BigDecimal("12.50"), 3,
                List.of(new OrderEvent.Item("b-1", 2, new BigDecimal("100.00")), new OrderEvent.Item(null, 1, null)),
                AT.minusSeconds(60), null);
        OrderEvent after = new OrderEvent("o-1", 7, "toys", new BigDecimal("1E+2"), null, null, AT, value);
        OrderChange change = new OrderChange(before, after, 2, 41, AT.plusNanos(1000), AT.plusSeconds(1));

        ReadModelBacklog.Entry read = ReadModelBacklog.read(ReadModelBacklog.changes(List.of(change)).get(0));

        assertNull(read.cancel());
        assertEquals(2, read.partition());
        assertEquals(41, read.offset());
        OrderChange back = read.change();
        assertEquals(change.streamTime(), back.streamTime());
        assertEquals(change.processedAt(), back.processedAt());
        assertTrue(back.before().sameContent(before) && back.after().sameContent(after));
        assertEquals(before.items(), back.before().items());
        assertEquals("12.50", back.before().total().toPlainString(), "the scale kept");
        assertEquals(0, new BigDecimal("100").compareTo(back.after().total()));
        assertNull(back.before().value(), "a version read back from the orders table has no bytes");
        assertArrayEquals(value, back.after().value(), "the record's bytes, unchanged");
        assertNull(back.after().itemCount());
    }

    @Test
    void hostileVersionsComeBackExactlyAMegabyteOfBytesLineSeparatorsQuotesAndTheLargestPositionsIncluded() {
        byte[] value = new byte[1_000_000];
        java.util.Arrays.fill(value, (byte) 0xff); // not even UTF-8: the bytes as received
        List<OrderEvent.Item> items = List.of(new OrderEvent.Item("\u2028\"\\", 1_000_000, new BigDecimal("999999999999.99")),
                new OrderEvent.Item("\ud83d\ude00", 1, null), new OrderEvent.Item("\u202e\u0001", 2, new BigDecimal("0.01")),
                new OrderEvent.Item(null, 1, null));
        Instant end = Instant.parse("9999-12-31T23:59:59.999999Z");
        OrderEvent after = new OrderEvent("o-\"\\\u2028", Long.MAX_VALUE, "c\u0001", new BigDecimal("999999999999.99"),
                1_000_003, items, end, value);
        OrderEvent before = new OrderEvent(after.orderId(), 1, "c", new BigDecimal("0.00"), 0, List.of(),
                Instant.EPOCH, null);
        OrderChange change = new OrderChange(before, after, Integer.MAX_VALUE, Long.MAX_VALUE, end, end);

        OrderChange back = ReadModelBacklog.read(ReadModelBacklog.changes(List.of(change)).get(0)).change();

        assertTrue(back.after().sameContent(after) && back.before().sameContent(before));
        assertEquals(items, back.after().items());
        assertArrayEquals(value, back.after().value());
        assertEquals(Integer.MAX_VALUE, back.partition());
        assertEquals(Long.MAX_VALUE, back.offset());
        assertEquals(end, back.streamTime());
    }

    @Test
    void aNewOrderHasNoBeforeAndACancelKeepsItsDecision() {
        OrderEvent after = new OrderEvent("o-2", 8, "books", new BigDecimal("5.00"), 1, null, AT, new byte[] { 1 });
        assertNull(ReadModelBacklog.read(ReadModelBacklog.changes(List.of(new OrderChange(null, after, 0, 0, AT, AT)))
                .get(0)).change().before());

        OrderCancel cancel = new OrderCancel(new CancelRequested("e-1", "o-2", AT), after, OrderCancel.Decision.REFUSED);
        ReadModelBacklog.Entry read = ReadModelBacklog.read(ReadModelBacklog.cancel(cancel, 1, 9).get(0));

        assertNull(read.change());
        assertEquals(cancel.request(), read.cancel().request());
        assertEquals(OrderCancel.Decision.REFUSED, read.cancel().decision());
        assertTrue(read.cancel().version().sameContent(after));
        assertEquals(9, read.offset());
        assertNull(ReadModelBacklog.read(ReadModelBacklog.cancel(new OrderCancel(cancel.request(), null,
                OrderCancel.Decision.NOT_DECIDED), 1, 10).get(0)).cancel().version(), "no such order");
    }

    @Test
    void aModelStopsOnItsOwnFailuresNotOnTheDatabasesPassingOnes() {
        assertTrue(ReadModelStops.deterministic(new IllegalStateException("a bug")));
        assertTrue(ReadModelStops.deterministic(new NullPointerException()));
        assertTrue(ReadModelStops.deterministic(pg("22012")), "division by zero");
        assertTrue(ReadModelStops.deterministic(pg("42P01")), "undefined table");
        assertTrue(ReadModelStops.deterministic(pg("23505")), "unique violation");
        assertFalse(ReadModelStops.deterministic(pg("40001")), "serialization failure");
        assertFalse(ReadModelStops.deterministic(pg("40P01")), "deadlock");
        assertFalse(ReadModelStops.deterministic(pg("57014")), "statement cancelled");
        assertFalse(ReadModelStops.deterministic(pg("08006")), "connection failure");
        assertFalse(ReadModelStops.deterministic(pg("53300")), "too many connections");
        assertFalse(ReadModelStops.deterministic(new io.vertx.core.VertxException("Connection is closed")));
        assertFalse(ReadModelStops.deterministic(new java.util.concurrent.TimeoutException()));
    }

    @Test
    void aStopsReasonQuotesAtMostAQuotesLength() {
        String reason = ReadModelStops.reason(new IllegalStateException("x".repeat(100_000)));
        assertTrue(reason.length() < 200, reason);
        assertTrue(reason.contains("100000 characters"));
    }

    private static PgException pg(String state) {
        return new PgException("failed", "ERROR", state, null);
    }
}
