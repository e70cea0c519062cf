package io.readside.projection.outbox;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * The records rows this process wrote, handed to the relay with their records so that it reads back only their ids,
 * sizes and times, not the records themselves (PostgreSQL decompressing and sending what this process still holds;
 * docs/benchmarks.md, issue 24). Only a short cut: the relay takes a row's records from here when its id, its
 * {@code created_at} and its size in bytes are the outbox's, and reads them from the outbox otherwise (a row another
 * instance wrote, one not kept here, an id the sequence gave again after a restore, or a row changed since it was
 * written: its {@code xmin}, the version, is another). A row is kept from its
 * insert (before its commit: a row rolled back is never read) until this process's relay has read past its id, or
 * for {@link #KEPT_NANOS} (another instance's relay published it, or this one is behind and reads it); at most
 * {@code maxRows} rows and {@code maxBytes} bytes of records, and a row that does not fit is not kept. Nothing is kept
 * while this process's relay makes no pass (the relay off, or held by another instance's for a while).
 */
final class HandedRows {

    /**
     * A row's records as its transaction wrote them, with what identifies the row in the outbox: its creation time,
     * its version (the writing transaction's id, {@code xmin}: an UPDATE gives another) and size.
     */
    record Handed(Instant createdAt, long version, int bytes, List<OutboxRecords.KeyValue> records) {
    }

    private record Kept(Handed row, long since) {
    }

    /** This process's rows: at most 1,000 rows and 16 MiB (a row holds up to Outbox.MAX_ROW_BYTES). */
    static final HandedRows WRITTEN = new HandedRows(1_000, 16L << 20, System::nanoTime);
    /** A row is kept at most this long (a relay that keeps up reads it within milliseconds of its commit). */
    static final long KEPT_NANOS = 5_000_000_000L;

    private final NavigableMap<Long, Kept> rows = new TreeMap<>();
    private final int maxRows;
    private final long maxBytes;
    private final LongSupplier nanoTime;
    private long bytes;
    private boolean passed;
    private long lastPass;

    HandedRows(int maxRows, long maxBytes, LongSupplier nanoTime) {
        this.maxRows = maxRows;
        this.maxBytes = maxBytes;
        this.nanoTime = nanoTime;
    }

    /** Keeps the row {@code id} when this process's relay reads the outbox and it fits; else it is read there. */
    synchronized void add(long id, Handed row) {
        long now = nanoTime.getAsLong();
        dropKeptSince(now - KEPT_NANOS);
        if (!passed || now - lastPass > KEPT_NANOS || rows.size() >= maxRows || bytes + row.bytes() > maxBytes
                || rows.containsKey(id)) {
            return;
        }
        rows.put(id, new Kept(row, now));
        bytes += row.bytes();
    }

    /** The ids of the rows kept, for the relay's read (whose records it then need not read). */
    synchronized Long[] ids() {
        return rows.keySet().toArray(new Long[0]);
    }

    /**
     * The records of row {@code id} when it is kept and is the outbox's row as it is now (the same
     * {@code created_at}, version and size in bytes); null when the relay must read them.
     */
    synchronized List<OutboxRecords.KeyValue> records(long id, Instant createdAt, long version, int size) {
        Kept kept = rows.get(id);
        Handed row = kept == null ? null : kept.row();
        return row != null && row.createdAt().equals(createdAt) && row.version() == version && row.bytes() == size
                ? row.records() : null;
    }

    /**
     * This process's relay has made a pass and read the rows up to {@code id} (null: none): those kept up to it go
     * (published, or to be read from the outbox if a later commit gave a lower id; a rolled-back row is never read),
     * and so do those kept too long.
     */
    synchronized void readThrough(Long id) {
        passed = true;
        lastPass = nanoTime.getAsLong();
        if (id != null) {
            drop(rows.headMap(id, true));
        }
        dropKeptSince(lastPass - KEPT_NANOS);
    }

    private void dropKeptSince(long before) {
        rows.values().removeIf(kept -> {
            boolean old = kept.since() - before < 0;
            bytes -= old ? kept.row().bytes() : 0;
            return old;
        });
    }

    private void drop(Map<Long, Kept> done) {
        done.values().forEach(kept -> bytes -= kept.row().bytes());
        done.clear();
    }

    synchronized int size() {
        return rows.size();
    }
}
