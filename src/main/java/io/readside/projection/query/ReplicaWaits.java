package io.readside.projection.query;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.readside.projection.query.QueryPool.Route;
import io.readside.projection.query.QueryPool.Why;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * Read-your-writes on a replica. Once the primary has applied a token's write (the consistency wait) and the read
 * models are not behind, the primary's WAL insert position is read: everything the primary had then, the write and
 * any catch-up included, lies before it. The read then waits, within what is left of
 * {@code readside.consistency.max-wait}, until a replica in the rotation has replayed that position, and its queries run
 * on one connection to it that was seen to have replayed it (a {@code -ro} service may balance its connections across
 * several standbys). Past the wait, or when no replica is usable, its queries run on the primary, which has the write.
 * It never answers from a replica that may lack the write.
 * <p>
 * Like {@code PositionPoll}, the waits share one poll: every {@code readside.consistency.poll-interval} while anybody
 * waits, one statement per replica waited on; no connection is held while waiting.
 */
@ApplicationScoped
public class ReplicaWaits {

    private static final Logger LOG = Logger.getLogger(ReplicaWaits.class);

    /**
     * Everything the primary has written so far, commits that are visible included (even with
     * {@code synchronous_commit=off}). Right after a page boundary the insert position points past the new page's
     * header (24 bytes, 40 at a segment's start), where no record ends: a standby that replayed everything reports the
     * boundary, so the header is taken off.
     */
    static final String PRIMARY_INSERT_LSN = """
            SELECT CASE WHEN lsn % pg_size_bytes(current_setting('wal_segment_size')) = 40 THEN lsn - 40
                        WHEN lsn % current_setting('wal_block_size')::bigint = 24 THEN lsn - 24
                        ELSE lsn END
              FROM (SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint AS lsn) AS inserted""";
    static final String REPLAY_LSN = "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint";

    @Inject
    Pool primary;
    @Inject
    ReadReplicas replicas;
    @Inject
    Vertx vertx;

    @ConfigProperty(name = "readside.consistency.poll-interval")
    Duration pollInterval;
    @ConfigProperty(name = "readside.query.replica-timeout")
    Duration timeout;

    private record Waiter(Replica replica, long lsn, UniEmitter<? super Void> emitter) {
    }

    private final Set<Waiter> waiters = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean polling = new AtomicBoolean();

    /**
     * Routes the current request's queries for a read with a consistency token whose write the primary has applied.
     * Completes on {@code request}, the request's context, within {@code within}; never fails (the primary is the fallback).
     */
    public Uni<Void> route(RoutingContext exchange, Context request, Duration within) {
        if (!replicas.configured() || request == null) {
            return Uni.createFrom().voidItem();
        }
        long deadline = System.nanoTime() + within.toNanos();
        Held held = new Held();
        Uni<Route> route = replicas.next().map(replica -> primary.query(PRIMARY_INSERT_LSN).execute()
                .ifNoItem().after(timeout).fail()
                .chain(rows -> pinned(replica, rows.iterator().next().getLong(0), deadline, held))
                .map(ignored -> {
                    SqlConnection connection = held.handOver();
                    if (connection == null) {
                        throw new IllegalStateException("the request went away");
                    }
                    closeAtEnd(exchange, connection);
                    return new Route(replica, connection, null);
                })
                .onFailure().recoverWithItem(e -> {
                    held.release();
                    LOG.debugf(e, "a read with a consistency token goes to the primary: replica %s has not "
                            + "replayed its write within the wait", replica.name());
                    return new Route(null, null, Why.REPLICA_NOT_CAUGHT_UP);
                }))
                .orElseGet(() -> Uni.createFrom().item(new Route(null, null, Why.NO_REPLICA_IN_ROTATION)));
        return route.invoke(chosen -> QueryPool.route(request, chosen)).replaceWithVoid()
                .onCancellation().invoke(held::cancel)
                .emitOn(command -> request.runOnContext(v -> command.run()));
    }

    /**
     * The replica connection a request is getting: closed, never lost, whether the request goes away before, while
     * or after it is acquired. Exactly one of {@link #handOver()} and {@link #cancel()} gets it.
     */
    private static final class Held {
        private final AtomicReference<SqlConnection> connection = new AtomicReference<>();
        private final AtomicBoolean cancelled = new AtomicBoolean();

        void take(SqlConnection acquired) {
            connection.set(acquired);
            if (cancelled.get()) {
                release();
            }
        }

        SqlConnection handOver() {
            return connection.getAndSet(null);
        }

        void release() {
            SqlConnection taken = connection.getAndSet(null);
            if (taken != null) {
                taken.closeAndForget();
            }
        }

        void cancel() {
            cancelled.set(true);
            release();
        }
    }

    /** Completes once {@code held} has a connection to {@code replica} that has replayed {@code lsn}; fails past the deadline. */
    private Uni<Void> pinned(Replica replica, long lsn, long deadline, Held held) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left < 1) { // a timer of less than a millisecond is refused, and the request would wait for good
            return Uni.createFrom().failure(new IllegalStateException("the wait is over"));
        }
        return replayed(replica, lsn).ifNoItem().after(Duration.ofMillis(left)).fail()
                .chain(() -> Uni.createFrom().<SqlConnection> emitter(got -> replica.pool.getConnection()
                        .subscribe().with(connection -> { // taken even when the request went away meanwhile
                            held.take(connection);
                            got.complete(connection);
                        }, got::fail)))
                .chain(connection -> connection.query(REPLAY_LSN).execute().ifNoItem().after(timeout).fail())
                .chain(rows -> {
                    Long replayed = rows.iterator().next().getLong(0);
                    if (replayed != null && replayed >= lsn) {
                        return Uni.createFrom().voidItem();
                    }
                    // this connection's standby is behind the one the poll asked: ask again at the next poll
                    held.release();
                    return Uni.createFrom().voidItem().onItem().delayIt().by(pollInterval)
                            .chain(() -> pinned(replica, lsn, deadline, held));
                });
    }

    private static void closeAtEnd(RoutingContext exchange, SqlConnection connection) {
        exchange.addEndHandler(ended -> connection.closeAndForget());
        if (exchange.response().ended() || exchange.response().closed()) {
            connection.closeAndForget();
        }
    }

    /** Completes once the shared poll saw {@code replica} at {@code lsn} or later. */
    private Uni<Void> replayed(Replica replica, long lsn) {
        if (replica.replayLsn >= lsn) {
            return Uni.createFrom().voidItem();
        }
        return Uni.createFrom().emitter(emitter -> {
            Waiter waiter = new Waiter(replica, lsn, emitter);
            emitter.onTermination(() -> waiters.remove(waiter));
            waiters.add(waiter);
            if (polling.compareAndSet(false, true)) {
                vertx.setTimer(1, id -> poll());
            }
        });
    }

    private void poll() {
        Set<Replica> asked = ConcurrentHashMap.newKeySet();
        waiters.forEach(waiter -> asked.add(waiter.replica()));
        if (asked.isEmpty()) {
            polling.set(false);
            if (!waiters.isEmpty() && polling.compareAndSet(false, true)) { // joined between the check and the reset
                vertx.setTimer(1, id -> poll());
            }
            return;
        }
        Uni.join().all(asked.stream().map(replica -> replica.pool.query(REPLAY_LSN).execute()
                .ifNoItem().after(timeout).fail()
                .invoke(rows -> {
                    Long replayed = rows.iterator().next().getLong(0);
                    if (replayed != null && replayed > replica.replayLsn) {
                        replica.replayLsn = replayed;
                    }
                    waiters.stream().filter(w -> w.replica() == replica && replica.replayLsn >= w.lsn())
                            .forEach(w -> {
                                if (waiters.remove(w)) {
                                    w.emitter().complete(null);
                                }
                            });
                })
                .onFailure().recoverWithNull().replaceWithVoid()).toList()).andCollectFailures()
                .subscribe().with(done -> next(), failure -> next());
    }

    private void next() {
        polling.set(false);
        if (!waiters.isEmpty() && polling.compareAndSet(false, true)) {
            vertx.setTimer(Math.max(1, pollInterval.toMillis()), id -> poll());
        }
    }
}
