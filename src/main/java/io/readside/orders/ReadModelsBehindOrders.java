package io.readside.orders;

import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.readside.projection.consistency.ReadModelsBehind;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * A read model derived from orders is behind while it is stopped ({@code read_model_stops}: what it missed waits in
 * its backlog) or not filled yet ({@code read_models}). Asked from PostgreSQL after each consistency wait: a stop
 * commits with the orders write it missed, so a token whose write is applied finds the stop.
 */
@ApplicationScoped
public class ReadModelsBehindOrders implements ReadModelsBehind {

    static final String BEHIND = """
            SELECT 'read model ' || model || ' is stopped on a change it failed on' FROM read_model_stops
             WHERE model = ANY($1)
            UNION ALL
            SELECT 'read model ' || model || ' is new and not filled yet' FROM read_models
             WHERE model = ANY($1) AND filled_at IS NULL
            LIMIT 1""";

    @Inject
    Pool pool;

    @Override
    public Uni<Optional<String>> behind(List<String> readModels) {
        return pool.preparedQuery(BEHIND).execute(Tuple.of(readModels.toArray(new String[0])))
                .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(rows.iterator().next().getString(0)));
    }
}
