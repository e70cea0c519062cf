package io.readside.orders;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
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
import io.readside.projection.replay.Rebuilds;
import io.readside.projection.replay.Rebuilds.RebuildStatus;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * A new read model derived from orders fills itself: found in {@code read_models} for the first time while the orders
 * table already holds rows, it waits {@code readside.read-models.backfill-after} (the time a rollout takes: an
 * instance of the old version writes nothing to its tables, so the switch must come after every instance runs this
 * one), then a rebuild of it alone replays the retained log into its tables and switches them in; from then on it is
 * filled. A new model of a deployment without orders is filled at once. A fill that fails (retention deleted history
 * it would need: refused; a rebuild running: it waits) is tried again every {@code readside.read-models.catch-up-every}
 * and shows on {@code readside-read-models}. Until filled, its tables hold only what changed since it was deployed.
 */
@ApplicationScoped
public class ReadModelBackfill {

    private static final Logger LOG = Logger.getLogger(ReadModelBackfill.class);
    private static final Duration TIMEOUT = Duration.ofMinutes(1);

    static final String REGISTER = """
            INSERT INTO read_models (model, filled_at, filled_how)
            SELECT $1, CASE WHEN EXISTS (SELECT 1 FROM orders) THEN NULL ELSE now() END,
                   CASE WHEN EXISTS (SELECT 1 FROM orders) THEN NULL ELSE 'nothing to fill: no orders yet' END
            ON CONFLICT (model) DO NOTHING""";
    static final String UNFILLED = """
            SELECT model, registered_at, last_failure, last_attempt FROM read_models WHERE filled_at IS NULL
             ORDER BY model""";
    static final String FILLED = """
            UPDATE read_models SET filled_at = $2, filled_how = $3, last_failure = NULL
             WHERE model = $1 AND filled_at IS NULL""";
    static final String ATTEMPTED = "UPDATE read_models SET last_attempt = now(), last_failure = $2 WHERE model = $1";

    /** A model being filled, as {@code read_models} says. */
    public record Unfilled(String model, Instant registeredAt, String lastFailure, Instant lastAttempt) {
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
     * deployment whose orders table is empty has nothing to fill.
     */
    void registerAtStart(@Observes @Priority(500) StartupEvent start) {
        register();
    }

    private void register() {
        for (OrdersReadModel model : orders.readModels()) {
            if (!model.tables().isEmpty()) {
                pool.preparedQuery(REGISTER).execute(Tuple.of(model.name())).await().atMost(TIMEOUT);
            }
        }
    }

    /** Registers the models this version runs, and moves each unfilled one on; what is unfilled now. Blocks. */
    Map<String, Unfilled> check() {
        register();
        Map<String, Unfilled> unfilled = new TreeMap<>();
        for (Row row : pool.query(UNFILLED).execute().await().atMost(TIMEOUT)) {
            String name = row.getString("model");
            Unfilled model = new Unfilled(name, row.getOffsetDateTime("registered_at").toInstant(),
                    row.getString("last_failure"), row.getOffsetDateTime("last_attempt") == null ? null
                            : row.getOffsetDateTime("last_attempt").toInstant());
            if (orders.readModels().stream().noneMatch(known -> known.name().equals(name))) {
                continue; // a model of another version (older, or newer in a rollout): its own instances fill it
            }
            if (!fill(model)) {
                unfilled.put(name, model);
            }
        }
        return unfilled;
    }

    /** True once filled: its rebuild since it was registered is done. */
    private boolean fill(Unfilled model) {
        Optional<RebuildStatus> latest = rebuilds.status(model.model());
        if (latest.isPresent() && !latest.get().startedAt().isBefore(model.registeredAt())) {
            RebuildStatus rebuild = latest.get();
            if (rebuild.state() == Rebuilds.State.DONE) {
                pool.preparedQuery(FILLED).execute(Tuple.of(model.model(),
                        OffsetDateTime.ofInstant(rebuild.finishedAt(), java.time.ZoneOffset.UTC),
                        "filled by the rebuild started " + rebuild.startedAt())).await().atMost(TIMEOUT);
                LOG.infof("read model %s is filled: its rebuild from the retained log switched in at %s",
                        model.model(), rebuild.finishedAt());
                return true;
            }
            if (rebuild.state().running()) {
                return false;
            }
            // FAILED: said on readside-read-models, and tried again below (every catch-up-every)
            if (model.lastFailure() == null) {
                pool.preparedQuery(ATTEMPTED).execute(Tuple.of(model.model(), "the rebuild that fills it failed: "
                        + rebuild.error())).await().atMost(TIMEOUT);
                return false;
            }
        }
        Instant now = Instant.now();
        if (now.isBefore(model.registeredAt().plus(backfillAfter))
                || model.lastAttempt() != null && now.isBefore(model.lastAttempt().plus(tryEvery))) {
            return false;
        }
        try {
            rebuilds.start(model.model(), false);
            pool.preparedQuery(ATTEMPTED).execute(Tuple.of(model.model(), null)).await().atMost(TIMEOUT);
            LOG.infof("read model %s is new: filling it from the retained log (a rebuild of it alone)", model.model());
        } catch (RuntimeException e) { // a rebuild running (here or elsewhere), history lost, a fenced topic
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (!why.equals(model.lastFailure())) {
                LOG.warnf("read model %s is new and not filled yet: %s", model.model(), why);
            }
            pool.preparedQuery(ATTEMPTED).execute(Tuple.of(model.model(), why)).await().atMost(TIMEOUT);
        }
        return false;
    }
}
