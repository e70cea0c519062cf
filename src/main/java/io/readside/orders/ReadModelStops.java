package io.readside.orders;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.micrometer.core.instrument.MeterRegistry;
import io.readside.projection.Committed;
import io.readside.values.Quote;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgException;

/**
 * Each read model derived from orders on its own in the live transaction: a failure of its step that retrying cannot
 * cure (an exception of its fold, SQL the database refuses: anything but a lost connection, a deadlock, a
 * serialization failure, a lock or resource shortage) ends the transaction, which runs again with the model stopped
 * ({@code read_model_stops}): the orders table and the other read models commit as usual, and the changes it missed
 * go to its backlog ({@code read_model_backlog}), in that one transaction. A stopped model gets no live
 * change: each goes to its backlog, in commit order per order (the order's advisory lock is held when the stops are
 * read), until {@link ReadModelCatchUp} applies the backlog and it joins the others. A replay (a rebuild) runs every
 * model plainly: a failure fails the rebuild.
 */
@ApplicationScoped
public class ReadModelStops {

    private static final Logger LOG = Logger.getLogger(ReadModelStops.class);

    /**
     * The stopped models, their rows locked for share: {@link ReadModelCatchUp} deletes a row (the model joins) only
     * when no live transaction is adding to its backlog, and one that waited on it reads the model as running.
     */
    static final String STOPPED = "SELECT model FROM read_model_stops ORDER BY model FOR SHARE";
    static final String STOP = """
            INSERT INTO read_model_stops (model, stopped_at, reason, stopped_on) VALUES ($1, now(), $2, $3)
            ON CONFLICT (model) DO NOTHING RETURNING model""";
    /** In the order given: the backlog's order is the order the changes are handed to the model. */
    static final String ADD = """
            INSERT INTO read_model_backlog (model, change)
            SELECT $1, c::jsonb FROM unnest($2::text[]) WITH ORDINALITY AS t(c, n) ORDER BY n""";
    /** A rebuild's switch: the replayed tables already hold what waited (the model joins). */
    static final String FORGET_BACKLOG = "DELETE FROM read_model_backlog WHERE model = ANY($1)";
    static final String FORGET_STOPS = "DELETE FROM read_model_stops WHERE model = ANY($1)";

    @Inject
    MeterRegistry registry;

    /**
     * {@code step} for each model in order (their names: the lock order between writers). Live, a stopped model's
     * step does not run and {@code missed} (the backlog entries of what the step would have folded,
     * {@link ReadModelBacklog}) goes to its backlog; {@code where} says which record a stop concerns.
     */
    Uni<Committed> each(SqlConnection conn, List<OrdersReadModel> models, boolean live,
            Function<OrdersReadModel, Uni<Committed>> step, Supplier<List<String>> missed, String where) {
        if (!live) { // a replay: a model's failure fails the rebuild (it is no fault of the record's)
            Uni<Committed> all = Uni.createFrom().item(Committed.NOTHING);
            for (OrdersReadModel model : models) {
                all = all.flatMap(done -> Uni.createFrom().deferred(() -> step.apply(model))
                        .onFailure(ReadModelStops::deterministic).transform(e -> new IllegalStateException("read model "
                                + model.name() + " failed in the replay: " + reason(e), e))
                        .map(done::and));
            }
            return all;
        }
        List<String>[] entries = new List[1]; // made once, for however many models miss them
        Supplier<List<String>> once = () -> entries[0] != null ? entries[0] : (entries[0] = missed.get());
        return conn.query(STOPPED).execute().flatMap(rows -> {
            Set<String> stopped = new HashSet<>();
            rows.forEach(row -> stopped.add(row.getString(0)));
            Uni<Committed> all = Uni.createFrom().item(Committed.NOTHING);
            for (OrdersReadModel model : models) {
                String name = model.name();
                String attempt = name + " on " + where;
                Failed failure = stopped.contains(name) ? failed.remove(attempt) : failed.get(attempt);
                all = all.flatMap(done -> (stopped.contains(name)
                        ? backlog(conn, name, once.get()).replaceWith(Committed.NOTHING)
                        : failure != null ? stop(conn, name, attempt, failure, once.get())
                        : isolated(model, step, attempt)).map(done::and));
            }
            return all;
        });
    }

    /** A failure of a model's step in a transaction that runs again: the stop it commits. */
    private record Failed(String reason, Throwable shown, long at) {
    }

    /**
     * Per model and batch ({@code "<model> on <where>"}), a failure whose transaction runs again: its next run commits
     * the stop with the backlog. A batch that never ran again (its partition went to another instance) is forgotten
     * after {@link #FORGOTTEN_AFTER_MS}.
     */
    private final Map<String, Failed> failed = new ConcurrentHashMap<>();
    private static final long FORGOTTEN_AFTER_MS = 600_000;

    private Uni<Committed> isolated(OrdersReadModel model, Function<OrdersReadModel, Uni<Committed>> step,
            String attempt) {
        Uni<Committed> applied = Uni.createFrom().deferred(() -> step.apply(model));
        if (!model.stopsAlone()) {
            return applied;
        }
        return applied.onFailure(ReadModelStops::deterministic).transform(e -> {
            // this transaction is lost (PostgreSQL refuses anything after an error, and the SQL client rolls back a
            // transaction in which a statement failed); its next run stops the model
            long now = System.currentTimeMillis();
            failed.values().removeIf(old -> old.at() < now - FORGOTTEN_AFTER_MS);
            String reason = reason(e);
            Throwable shown = new IllegalStateException(reason); // the stack, without the message's input
            shown.setStackTrace(e.getStackTrace());
            failed.putIfAbsent(attempt, new Failed(reason, shown, now));
            return new Stopped(model.name());
        });
    }

    /**
     * The stop and the first changes of the backlog, in one transaction: a catch-up never finds a stop without what
     * it stopped on.
     */
    private Uni<Committed> stop(SqlConnection conn, String model, String attempt, Failed failure,
            List<String> entries) {
        String where = attempt.substring(model.length() + " on ".length());
        return conn.preparedQuery(STOP).execute(Tuple.of(model, failure.reason(), where))
                .call(() -> backlog(conn, model, entries))
                .map(inserted -> Committed.counting(() -> {
                    failed.remove(attempt, failure);
                    if (inserted.size() > 0) {
                        registry.counter("readside.read.model.stops", "model", model).increment();
                        LOG.errorf(failure.shown(), "read model %s stopped on %s: %s. The orders and the other read"
                                + " models go on; its changes wait in read_model_backlog until it is fixed (it"
                                + " catches up on its own, at start and every readside.read-models.catch-up-every)",
                                model, where, failure.reason());
                    }
                }));
    }

    /** The transaction ends: it runs again, and the model that stopped gets only its backlog. */
    static final class Stopped extends RuntimeException {
        Stopped(String model) {
            super("read model " + model + " stopped; the transaction runs again without it", null, false, false);
        }
    }

    private static Uni<Void> backlog(SqlConnection conn, String model, List<String> entries) {
        return entries.isEmpty() ? Uni.createFrom().voidItem()
                : conn.preparedQuery(ADD).execute(Tuple.of(model, entries.toArray(new String[0]))).replaceWithVoid();
    }

    /** In a rebuild's switch: the models whose replayed tables are switched in join, and what waited is dropped. */
    static Uni<Void> forget(SqlConnection conn, List<String> models) {
        String[] names = models.toArray(new String[0]);
        // the stops first: the lock order of a catch-up's join (stop row, then backlog rows)
        return conn.preparedQuery(FORGET_STOPS).execute(Tuple.of((Object) names))
                .chain(() -> conn.preparedQuery(FORGET_BACKLOG).execute(Tuple.of((Object) names))).replaceWithVoid();
    }

    /**
     * A failure that would happen again on a retry (pure): anything but the SQL client's own (a connection lost, a
     * pool closed, a timeout), an {@link Error}, and SQLSTATE classes 08 (connection), 25 (a transaction already
     * failed), 40 (deadlock, serialization), 53 (resources),
     * 55 (lock not available, object in use), 57 (operator intervention, a cancelled statement), 58 (system) and XX.
     */
    static boolean deterministic(Throwable e) {
        if (e instanceof PgException pg) {
            String state = pg.getSqlState() == null ? "" : pg.getSqlState();
            return !(state.isEmpty() || state.startsWith("08") || state.startsWith("25") || state.startsWith("40")
                    || state.startsWith("53")
                    || state.startsWith("55") || state.startsWith("57") || state.startsWith("58")
                    || state.startsWith("XX"));
        }
        if (e instanceof Error) { // out of memory, a stack overflow: the process's, not the model's
            return false;
        }
        String name = e.getClass().getName();
        return !(name.startsWith("io.vertx.") || name.startsWith("io.netty.") || e instanceof java.io.IOException
                || e instanceof java.util.concurrent.TimeoutException || e instanceof InterruptedException);
    }

    /** What failed, bounded: the exception's kind, its SQLSTATE, at most a quote's length of its message. */
    static String reason(Throwable e) {
        if (e instanceof PgException pg) {
            return "SQLSTATE " + pg.getSqlState() + " " + Quote.of(pg.getErrorMessage());
        }
        return e.getClass().getName() + " " + Quote.of(e.getMessage());
    }
}
