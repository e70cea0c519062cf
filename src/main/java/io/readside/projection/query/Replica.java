package io.readside.projection.query;

import java.util.function.Supplier;

import io.vertx.mutiny.sqlclient.Pool;

/**
 * One configured read replica: its pool and what the latest check saw. In the rotation (GET queries may go to it)
 * while {@link #outOfRotation()} is null.
 */
public final class Replica {

    private final String name;
    private final Supplier<Pool> pools;
    private final Supplier<Pool> checkPools;
    /** The queries' connections; a new pool once the replica was unreachable (its connections may hang for good). */
    volatile Pool pool;
    /** The checks' connection (a pool of one), renewed with {@link #pool}: a hung check never holds the next. */
    volatile Pool checks;
    /** Its replay position (bytes from 0/0) as last read, by a check or a consistency wait's poll. */
    volatile long replayLsn = -1;
    volatile double lagSeconds = Double.NaN;
    /** Why it is out of the rotation (lagging, unreachable, not a standby), or null while it is in. */
    private volatile String outOfRotation = ReadReplicas.NOT_CHECKED;

    Replica(String name, Supplier<Pool> pools, Supplier<Pool> checks) {
        this.name = name;
        this.pools = pools;
        this.checkPools = checks;
        this.pool = pools.get();
        this.checks = checks.get();
    }

    /**
     * New pools in place of the ones in use, which are closed: a node lost without a FIN or an RST leaves connections
     * that wait for good, and a pool of such connections would never connect again. A query on the old pools fails,
     * and is asked of the primary.
     */
    void renewPools() {
        Pool queries = pool;
        Pool checking = checks;
        pool = pools.get();
        checks = checkPools.get();
        queries.closeAndForget();
        checking.closeAndForget();
    }

    void close() {
        pool.closeAndForget();
        checks.closeAndForget();
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
