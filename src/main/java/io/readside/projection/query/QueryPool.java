package io.readside.projection.query;

import java.time.Duration;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import io.smallrye.common.vertx.VertxContext;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Where the read models' GET queries run. Without replicas, on the primary. With them
 * ({@link ReadReplicas}), a read without a consistency token goes to the next replica in the rotation; a read with
 * one goes where {@link ReplicaWaits} routed it (a replica that has replayed the write, or the primary). A query that
 * a replica does not answer within {@code readside.query.replica-timeout}, or answers with a failure, is asked of the
 * primary instead: a replica that is down never fails a read the primary can answer. Projectors, commands, the
 * outbox, admin operations and the saga use the primary's pool directly.
 */
@Startup // its counters exist from the start
@ApplicationScoped
public class QueryPool {

    private static final Logger LOG = Logger.getLogger(QueryPool.class);
    /** The route of a request's queries, a local of its (duplicated) Vert.x context; none: the rotation. */
    static final String ROUTE = "readside.query.route";

    /** Whether this session's standby has replayed the floor: checked on the connection the query then runs on. */
    static final String FRESH = "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint >= $1";

    /** Why a GET query was answered by the primary although replicas are configured (a metric tag). */
    enum Why {
        NO_REPLICAS_CONFIGURED, NO_REPLICA_IN_ROTATION, REPLICA_FAILED, REPLICA_BEHIND, REPLICA_NOT_CAUGHT_UP;

        String tag() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    @Inject
    Pool primary;
    @Inject
    ReadReplicas replicas;
    @Inject
    MeterRegistry registry;

    @ConfigProperty(name = "readside.query.replica-timeout")
    Duration timeout;

    /** Counted per read: made at start, where reads may go with this configuration (at 0 from the start). */
    private final Map<Why, Counter> primaryReads = new EnumMap<>(Why.class);
    private final Map<Replica, Counter> replicaReads = new IdentityHashMap<>();
    private final AtomicLong lastBehindWarning = new AtomicLong(System.nanoTime() - TimeUnit.MINUTES.toNanos(1));
    private final LongAdder behindSinceWarning = new LongAdder();

    @PostConstruct
    void counters() {
        for (Why why : Why.values()) {
            primaryReads.put(why, counter("primary", why.tag()));
        }
        replicas.all().forEach(replica -> replicaReads.put(replica, counter("replica", replica.name())));
    }

    /** Runs a read-only prepared statement where this request's queries go. */
    public Uni<RowSet<Row>> execute(String sql, Tuple arguments) {
        Route route = route();
        if (route != null) {
            return route.pinned() == null ? onPrimary(sql, arguments, route.why())
                    : onReplica(route.replica(), route.pinned(), sql, arguments);
        }
        if (!replicas.configured()) {
            return onPrimary(sql, arguments, Why.NO_REPLICAS_CONFIGURED);
        }
        return replicas.next().map(replica -> fresh(replica, sql, arguments))
                .orElseGet(() -> onPrimary(sql, arguments, Why.NO_REPLICA_IN_ROTATION));
    }

    /**
     * A read without a token on a replica of the rotation: on one connection, its session's replay position is
     * checked against {@link ReadReplicas#floor()} and the query runs right after it (pipelined: one round trip), so
     * a connection to a standby further behind than the bound (one of several behind a {@code -ro} address, say) is
     * never the one that answers: the primary does.
     */
    private Uni<RowSet<Row>> fresh(Replica replica, String sql, Tuple arguments) {
        long floor = replicas.floor();
        if (floor < 0) {
            return onReplica(replica, replica.pool, sql, arguments);
        }
        return replica.pool.withConnection(connection -> Uni.combine().all()
                .unis(connection.preparedQuery(FRESH).execute(Tuple.of(floor)),
                        connection.preparedQuery(sql).execute(arguments)).asTuple())
                .ifNoItem().after(timeout).fail()
                .onItemOrFailure().transformToUni((answered, failure) -> {
                    if (failure != null) {
                        LOG.debugf(failure, "a GET query on replica %s failed; asking the primary", replica.name());
                        return onPrimary(sql, arguments, Why.REPLICA_FAILED);
                    }
                    if (!Boolean.TRUE.equals(answered.getItem1().iterator().next().getBoolean(0))) {
                        behind(replica);
                        return onPrimary(sql, arguments, Why.REPLICA_BEHIND);
                    }
                    replicaReads.get(replica).increment();
                    return Uni.createFrom().item(answered.getItem2());
                });
    }

    /** A query on a connection already known to be recent enough (a token's), or when no floor is known yet. */
    private Uni<RowSet<Row>> onReplica(Replica replica, SqlClient client, String sql, Tuple arguments) {
        return client.preparedQuery(sql).execute(arguments).ifNoItem().after(timeout).fail()
                .invoke(() -> replicaReads.get(replica).increment())
                .onFailure().recoverWithUni(failure -> {
                    // whether the replica is there is the checks' to say (a slow query or a busy pool is not "gone")
                    LOG.debugf(failure, "a GET query on replica %s failed; asking the primary", replica.name());
                    return onPrimary(sql, arguments, Why.REPLICA_FAILED);
                });
    }

    private Uni<RowSet<Row>> onPrimary(String sql, Tuple arguments, Why why) {
        return primary.preparedQuery(sql).execute(arguments).invoke(() -> primaryReads.get(why).increment());
    }

    /**
     * A read found its connection's standby further behind than the bound: one of several behind the address may lag
     * while the checked one does not (the checks see one connection's). Said at most once a minute, with how many.
     */
    private void behind(Replica replica) {
        long now = System.nanoTime();
        long last = lastBehindWarning.get();
        behindSinceWarning.increment();
        if (now - last >= TimeUnit.MINUTES.toNanos(1) && lastBehindWarning.compareAndSet(last, now)) {
            LOG.warnf("GET queries found a standby behind %s further behind than readside.query.max-replica-lag: "
                    + "%d asked the primary instead since the last such line (a standby of several behind one address "
                    + "may lag while the one checked does not)", replica.name(), behindSinceWarning.sumThenReset());
        }
    }

    private Counter counter(String source, String detail) {
        return Counter.builder("readside.query.reads")
                .description("GET queries by where they ran: a replica (by name) or the primary (by why)")
                .tag("source", source).tag("detail", detail).register(registry);
    }

    /** Sets where this request's queries go (on its duplicated context, the one its resource method runs on). */
    static void route(Context request, Route route) {
        request.putLocal(ROUTE, route);
    }

    private static Route route() {
        Context context = Vertx.currentContext();
        return context != null && VertxContext.isDuplicatedContext(context) ? context.getLocal(ROUTE) : null;
    }

    /** A request's route: a connection to a replica that has replayed its write, or the primary and why. */
    record Route(Replica replica, SqlClient pinned, Why why) {
    }
}
