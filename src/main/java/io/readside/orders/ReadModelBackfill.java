package io.readside.orders;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.quarkus.runtime.StartupEvent;
import io.readside.projection.Batch;
import io.readside.projection.replay.Rebuilds;
import io.readside.projection.replay.Rebuilds.RebuildStatus;
import io.readside.values.Quote;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * A new read model derived from orders fills itself. Found in {@code read_models} for the first time while the orders
 * table already holds rows, it waits {@code readside.read-models.backfill-after} (the time a rollout takes: an
 * instance of the old version writes nothing to its tables, so the fill must come after every instance runs this
 * one). Then a model that is a function of each order's latest version
 * ({@link OrdersReadModel#fillsFromLatestVersions}) is filled from the orders table, in one transaction with the
 * orders writers held; any other is filled from the retained log, by a rebuild of it alone, and is filled once that
 * rebuild is DONE. A new model of a deployment without orders is filled at once. A try that fails shows on
 * {@code readside-read-models} and is tried again, each time twice as late (up to 64 times
 * {@code readside.read-models.catch-up-every}). Until filled, its tables hold only what changed since it was deployed.
 */
@ApplicationScoped
public class ReadModelBackfill {

    private static final Logger LOG = Logger.getLogger(ReadModelBackfill.class);
    private static final Duration TIMEOUT = Duration.ofMinutes(1);
    /** Orders per statement of a fill from the orders table. */
    static final int PAGE = 1000;
    /** The class of the fills' advisory locks ("RMFL"): one fill of a model at a time, across instances. */
    static final int FILL_LOCKS = 0x524d464c;

    static final String REGISTER = """
            INSERT INTO read_models (model, filled_at, filled_how)
            SELECT $1, CASE WHEN EXISTS (SELECT 1 FROM orders) THEN NULL ELSE now() END,
                   CASE WHEN EXISTS (SELECT 1 FROM orders) THEN NULL ELSE 'nothing to fill: no orders yet' END
            ON CONFLICT (model) DO NOTHING""";
    static final String UNFILLED = """
            SELECT model, registered_at, last_failure, last_attempt, attempts, fill_started_at,
                   now() >= registered_at + $1::bigint * interval '1 millisecond'
                   AND (last_attempt IS NULL
                        OR now() >= last_attempt + $2::bigint * interval '1 millisecond' * power(2, least(attempts - 1, 6)))
                   AS due
              FROM read_models WHERE filled_at IS NULL ORDER BY model""";
    static final String FILLED = """
            UPDATE read_models SET filled_at = now(), filled_how = $2, last_failure = NULL
             WHERE model = $1 AND filled_at IS NULL""";
    static final String ATTEMPTED = """
            UPDATE read_models SET last_attempt = now(), attempts = attempts + 1, last_failure = $2,
                   fill_started_at = coalesce($3, fill_started_at)
             WHERE model = $1 AND filled_at IS NULL""";
    static final String REBUILD_FAILED = """
            UPDATE read_models SET last_failure = $2 WHERE model = $1 AND filled_at IS NULL""";
    /** The registration, held while a fill from the orders table runs (the other instances find it filled after). */
    static final String CLAIM = "SELECT filled_at FROM read_models WHERE model = $1 FOR UPDATE";
    static final String NO_CATCH_UP = "SELECT pg_advisory_xact_lock($1, hashtext($2))";
    /** Reads go on; the orders writers (ROW EXCLUSIVE) wait until the fill commits. */
    static final String HOLD_WRITERS = "LOCK TABLE orders IN SHARE MODE";

    /** A model being filled, as {@code read_models} says. */
    public record Unfilled(String model, Instant registeredAt, String lastFailure, int attempts) {
    }

    @Inject
    Pool pool;
    @Inject
    OrdersProjector orders;
    @Inject
    Rebuilds rebuilds;
    @ConfigProperty(name = "readside.read-models.backfill-after")
    Duration backfillAfter;
    @ConfigProperty(name = "readside.read-models.catch-up-every")
    Duration tryEvery;

    /**
     * At start, after the migrations and before the channels consume (their priority is 1000): a model of a
     * deployment whose orders table is empty has nothing to fill. (With the database unreachable at start, the first
     * check registers them; a fill of a model of a deployment whose first orders came first is then a fill of those.)
     */
    void registerAtStart(@Observes @Priority(500) StartupEvent start) {
        try {
            register(AT_START);
        } catch (RuntimeException e) { // the database unreachable: the service starts, and the checks register later
            LOG.warnf("the read models could not be registered at start (%s); the next check registers them",
                    e.toString());
        }
    }

    /** A database that does not answer at once does not hold the start. */
    private static final Duration AT_START = Duration.ofSeconds(5);

    private void register(Duration timeout) {
        for (OrdersReadModel model : orders.readModels()) {
            if (!model.tables().isEmpty()) {
                pool.preparedQuery(REGISTER).execute(Tuple.of(model.name())).await().atMost(timeout);
            }
        }
    }

    /** Registers the models this version runs, and moves each unfilled one on; what is unfilled now. Blocks. */
    Map<String, Unfilled> check() {
        register(TIMEOUT);
        Map<String, Unfilled> unfilled = new TreeMap<>();
        for (Row row : pool.preparedQuery(UNFILLED).execute(Tuple.of(backfillAfter.toMillis(),
                tryEvery.toMillis())).await().atMost(TIMEOUT)) {
            String name = row.getString("model");
            Unfilled model = new Unfilled(name, row.getOffsetDateTime("registered_at").toInstant(),
                    row.getString("last_failure"), row.getInteger("attempts"));
            Optional<OrdersReadModel> known = orders.readModels().stream().filter(m -> m.name().equals(name))
                    .findFirst();
            if (known.isEmpty()) {
                continue; // a model of another version (older, or newer in a rollout): its own instances fill it
            }
            OffsetDateTime started = row.getOffsetDateTime("fill_started_at");
            boolean filled = started != null && filledByItsRebuild(name, started.toInstant());
            if (!filled && row.getBoolean("due")) {
                // a rebuild running (its own, or another: one runs at a time) is waited for, not a failed try
                filled = known.get().fillsFromLatestVersions() ? fromOrdersTable(known.get())
                        : !rebuildRunning() && fromLog(name);
            }
            if (!filled) {
                unfilled.put(name, model);
            }
        }
        return unfilled;
    }

    /** True once the rebuild the fill started is DONE (it is then marked filled); a FAILED one is a failed try. */
    private boolean filledByItsRebuild(String model, Instant started) {
        Optional<RebuildStatus> latest = rebuilds.status(model);
        if (latest.isEmpty() || latest.get().startedAt().isBefore(started)) {
            return false;
        }
        RebuildStatus rebuild = latest.get();
        if (rebuild.state() == Rebuilds.State.DONE) {
            filled(model, "filled from the retained log by the rebuild started " + rebuild.startedAt());
            return true;
        }
        if (rebuild.state() == Rebuilds.State.FAILED) { // said on readside-read-models; tried again when due
            pool.preparedQuery(REBUILD_FAILED).execute(Tuple.of(model, "the rebuild that fills it failed: "
                    + Quote.of(rebuild.error()) + " (GET /admin/rebuilds/" + model + " has it whole)")).await()
                    .atMost(TIMEOUT);
        }
        return false;
    }

    private boolean rebuildRunning() {
        return rebuilds.readModelNames().stream().map(rebuilds::status).flatMap(Optional::stream)
                .anyMatch(status -> status.state().running());
    }

    /**
     * Every order's latest version handed to the model as a new order, page by page, in one transaction: its rows
     * replaced, the orders writers held (reads go on), the registration locked (one fill, across instances).
     */
    private boolean fromOrdersTable(OrdersReadModel model) {
        try {
            Long filled = pool.withTransaction(conn -> conn.preparedQuery(CLAIM).execute(Tuple.of(model.name()))
                    .flatMap(claimed -> {
                        if (claimed.size() == 0 || claimed.iterator().next().getValue(0) != null) {
                            return Uni.createFrom().item((Long) null); // filled meanwhile, elsewhere
                        }
                        // a stopped model's backlog is in the latest versions too: no catch-up runs (it waits for
                        // the lock), and the model joins
                        Uni<Void> emptied = conn.query(HOLD_WRITERS).execute()
                                .chain(() -> conn.preparedQuery(NO_CATCH_UP).execute(
                                        Tuple.of(ReadModelCatchUp.CATCH_UP_LOCKS, model.name())))
                                .chain(() -> ReadModelStops.forget(conn, List.of(model.name())));
                        for (String table : model.tables()) {
                            emptied = emptied.chain(() -> conn.query("DELETE FROM " + table).execute()
                                    .replaceWithVoid());
                        }
                        return emptied.chain(() -> page(conn, model, "", 0L)).call(count -> conn
                                .preparedQuery(FILLED).execute(Tuple.of(model.name(), "filled from the orders table's "
                                        + count + " latest versions")));
                    })).await().atMost(Duration.ofHours(1));
            if (filled != null) {
                LOG.infof("read model %s is filled from the orders table's %d latest versions", model.name(), filled);
            }
            return true;
        } catch (RuntimeException e) {
            failed(model.name(), ReadModelStops.reason(e), null);
            return false;
        }
    }

    private Uni<Long> page(SqlConnection conn, OrdersReadModel model, String after, long done) {
        return OrderTable.latestPage(conn, after, PAGE).flatMap(changes -> {
            if (changes.isEmpty()) {
                return Uni.createFrom().item(done);
            }
            List<Batch.Input<OrdersTopicEvent>> inputs = List.of(); // a fill, as a replay: nothing is published
            return model.apply(conn, changes, new Batch<>(inputs, false, Instant.now(), null))
                    .chain(() -> changes.size() < PAGE ? Uni.createFrom().item(done + changes.size())
                            : page(conn, model, changes.get(changes.size() - 1).orderId(), done + changes.size()));
        });
    }

    /** A rebuild of the model alone; filled once it is DONE ({@link #filledByItsRebuild}). */
    private boolean fromLog(String model) {
        try {
            RebuildStatus started = rebuilds.start(model, false);
            failed(model, null, started.startedAt());
            LOG.infof("read model %s is new: filling it from the retained log (a rebuild of it alone)", model);
        } catch (RuntimeException e) { // a rebuild running (here or elsewhere), history lost, a fenced topic
            failed(model, e.getClass().getSimpleName() + " " + Quote.of(e.getMessage()) + " (POST /admin/rebuilds/"
                    + model + " answers it whole)", null);
        }
        return false;
    }

    private void failed(String model, String why, Instant rebuildStarted) {
        if (why != null) {
            LOG.warnf("read model %s is new and not filled yet: %s", model, why);
        }
        pool.preparedQuery(ATTEMPTED).execute(Tuple.of(model, why, rebuildStarted == null ? null
                : rebuildStarted.atOffset(ZoneOffset.UTC))).await().atMost(TIMEOUT);
    }

    private void filled(String model, String how) {
        pool.preparedQuery(FILLED).execute(Tuple.of(model, how)).await().atMost(TIMEOUT);
        LOG.infof("read model %s is %s", model, how);
    }
}
