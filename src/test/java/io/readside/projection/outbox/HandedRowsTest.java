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
    private static final long VERSION = 4_100_000_123L;

    private final AtomicLong now = new AtomicLong();

    /** Kept by a process whose relay has just made a pass. */
    private HandedRows relaying(int maxRows, long maxBytes) {
        HandedRows handed = new HandedRows(maxRows, maxBytes, now::get);
        handed.readThrough(null);
        return handed;
    }

    private static HandedRows.Handed row(int bytes, String value) {
        return new HandedRows.Handed(AT, VERSION, bytes,
                List.of(new OutboxRecords.KeyValue(null, value.getBytes(), null)));
    }

    @Test
    void aRowIsTakenOnlyWithTheOutboxsCreationTimeVersionAndSize() {
        HandedRows handed = relaying(10, 1000);
        handed.add(7, row(100, "v"));
        assertArrayEquals("v".getBytes(), handed.records(7, AT, VERSION, 100).get(0).value());
        assertNull(handed.records(7, AT.plusNanos(1000), VERSION, 100),
                "another row with the same id (a restored sequence)");
        assertNull(handed.records(7, AT, VERSION, 101), "another size");
        assertNull(handed.records(7, AT, VERSION + 1, 100), "another version: the row changed since (an UPDATE)");
        assertNull(handed.records(8, AT, VERSION, 100), "not handed");
    }

    @Test
    void whatDoesNotFitIsNotKeptAndReadingPastRowsMakesRoom() {
        HandedRows handed = relaying(2, 250);
        handed.add(1, row(100, "a"));
        handed.add(2, row(100, "b"));
        handed.add(3, row(10, "c"));
        assertNull(handed.records(3, AT, VERSION, 10), "a third row: over the rows");
        handed.readThrough(1L);
        handed.add(4, row(200, "d"));
        assertNull(handed.records(4, AT, VERSION, 200), "over the bytes (100 + 200 > 250)");
        handed.add(5, row(150, "e"));
        assertEquals(List.of(2L, 5L), List.of(handed.ids()));
        handed.readThrough(5L);
        assertEquals(0, handed.size(), "read past every row");
        handed.add(6, row(250, "f"));
        assertArrayEquals("f".getBytes(), handed.records(6, AT, VERSION, 250).get(0).value(),
                "its bytes are free again");
    }

    @Test
    void nothingIsKeptWhileThisProcesssRelayMakesNoPass() {
        HandedRows handed = new HandedRows(10, 1000, now::get);
        handed.add(1, row(100, "no pass yet (the relay off, or another instance's)"));
        assertEquals(0, handed.size());
        handed.readThrough(null);
        handed.add(2, row(100, "kept"));
        assertEquals(List.of(2L), List.of(handed.ids()));
        now.addAndGet(HandedRows.KEPT_NANOS + 1);
        handed.add(3, row(100, "no pass for 5 s: another instance's relay holds the lock"));
        assertEquals(0, handed.size(), "and what was kept before is dropped");
    }

    @Test
    void aRowIsKeptAtMostFiveSecondsWhenThisProcesssRelayDoesNotReadIt() {
        HandedRows handed = relaying(10, 1000);
        handed.add(1, row(400, "published by another instance's relay"));
        now.addAndGet(3_000_000_000L);
        handed.readThrough(null); // this process's relay passes, and finds nothing (another instance published 1)
        handed.add(2, row(400, "later"));
        now.addAndGet(3_000_000_000L);
        handed.readThrough(null);
        assertEquals(List.of(2L), List.of(handed.ids()), "1 kept 6 s: dropped; 2 kept 3 s");
        handed.add(3, row(600, "its bytes are free again"));
        assertArrayEquals("its bytes are free again".getBytes(), handed.records(3, AT, VERSION, 600).get(0).value());
    }

    @Test
    void anIdHandedTwiceKeepsTheFirstRow() {
        HandedRows handed = relaying(10, 1000);
        handed.add(1, row(100, "first"));
        handed.add(1, row(100, "second"));
        assertArrayEquals("first".getBytes(), handed.records(1, AT, VERSION, 100).get(0).value());
        handed.readThrough(1L);
        handed.add(2, row(1000, "all"));
        assertArrayEquals("all".getBytes(), handed.records(2, AT, VERSION, 1000).get(0).value(),
                "the repeat took no bytes");
    }
}
