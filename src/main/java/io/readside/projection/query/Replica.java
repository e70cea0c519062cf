package io.readside.projection.query;

import io.vertx.mutiny.sqlclient.Pool;

/**
 * One configured read replica: its pool and what the latest check saw. In the rotation (GET queries may go to it)
 * while {@link #outOfRotation()} is null.
 */
public final class Replica {

    private final String name;
    final Pool pool;
    /** Its replay position (bytes from 0/0) as last read, by a check or a consistency wait's poll. */
    volatile long replayLsn = -1;
    volatile double lagSeconds = Double.NaN;
    /** Why it is out of the rotation (lagging, unreachable, not a standby), or null while it is in. */
    private volatile String outOfRotation = ReadReplicas.NOT_CHECKED;

    Replica(String name, Pool pool) {
        this.name = name;
        this.pool = pool;
    }

    /** {@code host:port/database}, never the credentials: the label of its metrics and log lines. */
    public String name() {
        return name;
    }

    /** Seconds behind the primary at the latest check; NaN before the first or when it could not be read. */
    public double lagSeconds() {
        return lagSeconds;
    }

    public String outOfRotation() {
        return outOfRotation;
    }

    public boolean inRotation() {
        return outOfRotation == null;
    }

    /** Sets whether it is in the rotation; the previous reason (null: it was in). */
    String rotate(String reason) {
        String before = outOfRotation;
        outOfRotation = reason;
        return before;
    }
}
