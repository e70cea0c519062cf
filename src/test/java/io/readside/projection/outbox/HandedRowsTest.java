package io.readside.projection.outbox;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** What this process hands its relay: bounded, and only ever a row's own records. */
class HandedRowsTest {

    private static final Instant AT = Instant.parse("2026-12-07T21:00:00.123456Z");

    private final AtomicLong now = new AtomicLong();

    /** Kept by a process whose relay has just made a pass. */
    private HandedRows relaying(int maxRows, long maxBytes) {
        HandedRows handed = new HandedRows(maxRows, maxBytes, now::get);
        handed.readThrough(null);
        return handed;
    }

    private static HandedRows.Handed row(int bytes, String value) {
        return new HandedRows.Handed(AT, bytes, List.of(new OutboxRecords.KeyValue(null, value.getBytes(), null)));
    }

    @Test
    void aRowIsTakenOnlyWithTheOutboxsCreationTimeAndSize() {
        HandedRows handed = relaying(10, 1000);
        handed.add(7, row(100, "v"));
        assertArrayEquals("v".getBytes(), handed.records(7, AT, 100).get(0).value());
        assertNull(handed.records(7, AT.plusNanos(1000), 100), "another row with the same id (a restored sequence)");
        assertNull(handed.records(7, AT, 101), "another size");
        assertNull(handed.records(8, AT, 100), "not handed");
    }

    @Test
    void whatDoesNotFitIsNotKeptAndReadingPastRowsMakesRoom() {
        HandedRows handed = relaying(2, 250);
        handed.add(1, row(100, "a"));
        handed.add(2, row(100, "b"));
        handed.add(3, row(10, "c"));
        assertNull(handed.records(3, AT, 10), "a third row: over the rows");
        handed.readThrough(1L);
        handed.add(4, row(200, "d"));
        assertNull(handed.records(4, AT, 200), "over the bytes (100 + 200 > 250)");
        handed.add(5, row(150, "e"));
        assertEquals(List.of(2L, 5L), List.of(handed.ids()));
        handed.readThrough(5L);
        assertEquals(0, handed.size(), "read past every row");
        handed.add(6, row(250, "f"));
        assertArrayEquals("f".getBytes(), handed.records(6, AT, 250).get(0).value(), "its bytes are free again");
    }

    @Test
    void nothingIsKeptWhileThisProcesssRelayDoesNotReadTheOutbox() {
        HandedRows handed = new HandedRows(10, 1000, now::get);
        handed.add(1, row(100, "another instance is the relay"));
        assertEquals(0, handed.size(), "no pass yet");
        handed.readThrough(null);
        handed.add(2, row(100, "kept"));
        now.addAndGet(HandedRows.RELAYING_NANOS);
        handed.add(3, row(100, "kept: a pass 10 s ago"));
        assertEquals(List.of(2L, 3L), List.of(handed.ids()));
        now.incrementAndGet();
        handed.add(4, row(100, "the relay stopped reading (another instance took over, or it is off)"));
        assertEquals(0, handed.size(), "what it kept is dropped too");
        handed.readThrough(null);
        handed.add(5, row(1000, "all"));
        assertArrayEquals("all".getBytes(), handed.records(5, AT, 1000).get(0).value(), "their bytes are free");
    }

    @Test
    void anIdHandedTwiceKeepsTheFirstRow() {
        HandedRows handed = relaying(10, 1000);
        handed.add(1, row(100, "first"));
        handed.add(1, row(100, "second"));
        assertArrayEquals("first".getBytes(), handed.records(1, AT, 100).get(0).value());
        handed.readThrough(1L);
        handed.add(2, row(1000, "all"));
        assertArrayEquals("all".getBytes(), handed.records(2, AT, 1000).get(0).value(), "the repeat took no bytes");
    }
}
