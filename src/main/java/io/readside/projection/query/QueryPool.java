package io.readside.projection.query;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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
import io.vertx.pgclient.PgException;

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

    /** Why a GET query was answered by the primary although replicas are configured (a metric tag). */
    enum Why {
        NO_REPLICAS_CONFIGURED, NO_REPLICA_IN_ROTATION, REPLICA_FAILED, REPLICA_NOT_CAUGHT_UP;

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

    private final Map<String, Counter> reads = new ConcurrentHashMap<>();

    /** The counters from the start, at 0: where reads may go with this configuration. */
    @PostConstruct
    void counters() {
        if (!replicas.configured()) {
            count("primary", Why.NO_REPLICAS_CONFIGURED.tag(), 0);
            return;
        }
        replicas.all().forEach(replica -> count("replica", replica.name(), 0));
        for (Why why : Why.values()) {
            if (why != Why.NO_REPLICAS_CONFIGURED) {
                count("primary", why.tag(), 0);
            }
        }
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
        return replicas.next().map(replica -> onReplica(replica, replica.pool, sql, arguments))
                .orElseGet(() -> onPrimary(sql, arguments, Why.NO_REPLICA_IN_ROTATION));
    }

    private Uni<RowSet<Row>> onReplica(Replica replica, SqlClient client, String sql, Tuple arguments) {
        return client.preparedQuery(sql).execute(arguments).ifNoItem().after(timeout).fail()
                .invoke(() -> count("replica", replica.name()))
                .onFailure().recoverWithUni(failure -> {
                    if (!(failure instanceof PgException)) { // not an SQL error: the replica is not there
                        replicas.unreachable(replica, failure);
                    }
                    LOG.debugf(failure, "a GET query on replica %s failed; asking the primary", replica.name());
                    return onPrimary(sql, arguments, Why.REPLICA_FAILED);
                });
    }

    private Uni<RowSet<Row>> onPrimary(String sql, Tuple arguments, Why why) {
        return primary.preparedQuery(sql).execute(arguments).invoke(() -> count("primary", why.tag()));
    }

    private void count(String source, String detail) {
        count(source, detail, 1);
    }

    private void count(String source, String detail, int reads) {
        this.reads.computeIfAbsent(source + '\u0000' + detail, key -> Counter.builder("readside.query.reads")
                .description("GET queries by where they ran: a replica (by name) or the primary (by why)")
                .tag("source", source).tag("detail", detail).register(registry)).increment(reads);
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
