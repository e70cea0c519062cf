package io.readside.testing;

import java.time.Duration;

import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * The outbox relay held still: it publishes only while it holds the advisory lock {@code readside-outbox-relay} (per
 * batch), so a session of the test holding that lock stops it. What commits meanwhile waits in the outbox, and a
 * consistency token issued meanwhile cannot be satisfied; closing lets the relay go on.
 */
public final class HeldRelay implements AutoCloseable {

    private static final String HOLD = "SELECT pg_advisory_lock(hashtext('readside-outbox-relay'))";
    private static final String RELEASE = "SELECT pg_advisory_unlock(hashtext('readside-outbox-relay'))";
    private static final Duration WITHIN = Duration.ofMinutes(2);

    private final SqlConnection holder;

    private HeldRelay(SqlConnection holder) {
        this.holder = holder;
    }

    /** Takes the relay's lock on a connection of {@code pool} (waiting for a batch in progress to end). */
    public static HeldRelay hold(Pool pool) {
        SqlConnection holder = pool.getConnection().await().atMost(WITHIN);
        try {
            holder.query(HOLD).execute().await().atMost(WITHIN);
        } catch (RuntimeException e) {
            holder.close().await().atMost(WITHIN);
            throw e;
        }
        return new HeldRelay(holder);
    }

    @Override
    public void close() {
        try {
            holder.query(RELEASE).execute().await().atMost(WITHIN);
        } finally {
            holder.close().await().atMost(WITHIN);
        }
    }
}
