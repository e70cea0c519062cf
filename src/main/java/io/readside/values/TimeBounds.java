package io.readside.values;

import java.time.Instant;

/**
 * The times Readside accepts from outside: four-digit years from the epoch on. PostgreSQL's timestamptz holds far
 * more (up to 294276 AD), but nothing real lies beyond, and a bound here keeps every accepted time storable and
 * printable as ordinary ISO-8601. The event parser refuses event times outside the same range.
 */
public final class TimeBounds {

    public static final Instant EARLIEST = Instant.parse("1970-01-01T00:00:00Z");
    public static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");
    /**
     * The latest event time: a year before {@link #LATEST}, so that the window an event falls in (and its grace)
     * also ends in a four-digit year.
     */
    public static final Instant LATEST_EVENT = Instant.parse("9999-01-01T00:00:00Z");

    private TimeBounds() {
    }

    public static boolean contains(Instant time) {
        return !time.isBefore(EARLIEST) && !time.isAfter(LATEST);
    }
}
