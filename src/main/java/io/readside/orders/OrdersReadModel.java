package io.readside.orders;

import java.time.Instant;
import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.readside.projection.Batch;
import io.readside.projection.Committed;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * A read model derived from the orders changelog (a CDI bean; the orders projection finds every one). In the
 * transaction that writes a batch's orders, each one folds the batch's {@link OrderChange}s (an adder for
 * {@code after}, a subtractor for {@code before}) and writes its rows with set-based statements, and
 * returns what it publishes (the engine writes that to the outbox in the same transaction; the relay publishes it). It depends on the orders package only through these types.
 */
public interface OrdersReadModel {

    /** A short name; read models write in the order of their names (one lock order between writers). */
    String name();

    /** Its tables, replaced with the orders table when orders is rebuilt. */
    List<String> tables();

    /**
     * Folds and writes the changes (offset order within each partition; none is a copy of the same content) on
     * {@code conn}.
     * {@code batch} says whether this is live (false: a rebuild's replay, which publishes and requests nothing), when
     * it was processed and in which trace.
     */
    Uni<Committed> apply(SqlConnection conn, List<OrderChange> changes, Batch<?> batch);

    /**
     * A cancel request on topic orders, once decided ({@link OrderCancel}: the version it cancels, and whether the
     * saga accepted it); the order's advisory lock is held. A read model says in its documentation whether a
     * cancelled order still counts in it. {@code live} false: a rebuild's replay, where nothing is decided.
     */
    default Uni<Committed> cancelRequested(SqlConnection conn, OrderCancel cancel, ConsumerRecord<?, ?> source,
            boolean live) {
        return Uni.createFrom().item(Committed.NOTHING);
    }

    /**
     * Whether a failure of this model that retrying cannot cure stops it alone ({@link ReadModelStops}: the orders and
     * the other models go on, its changes wait in its backlog until it is fixed). False: the failure holds the whole
     * orders transaction, retried, as before; for a model whose effects may not come late (the saga's payment
     * requests: a request sent after the order's cancel or timeout would charge a cancelled order).
     */
    default boolean stopsAlone() {
        return true;
    }

    /**
     * Whether the model is a function of each order's latest version alone (no state of its own, no stream time), so
     * that a new one is filled from the orders table: every current version handed to {@link #apply} as a new order,
     * with the orders writers held. False: it is filled from the retained log (a rebuild of it alone), which retention
     * may have cut short.
     */
    default boolean fillsFromLatestVersions() {
        return false;
    }

    /** See {@link io.readside.projection.replay.Replayable#carryOver}. */
    default Uni<Void> carryOver(SqlConnection conn, String live, String rebuilt, Instant replayedSince) {
        return Uni.createFrom().voidItem();
    }
}
