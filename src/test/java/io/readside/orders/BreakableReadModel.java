package io.readside.orders;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.readside.projection.Batch;
import io.readside.projection.Committed;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * A read model that exists only in the tests, and fails on purpose: per order, the total (an adder for {@code after},
 * a subtractor for {@code before}), how many changes and cancels it was handed. While {@link #failing} is set, it
 * fails on every change of an order whose id starts with {@link #BREAKS}: with an exception of its fold, or with SQL
 * the database refuses (a division by zero, a data error).
 */
@ApplicationScoped
public class BreakableReadModel implements OrdersReadModel {

    public static final String BREAKS = "breaks-";

    public enum Failure {
        NONE, EXCEPTION, SQL
    }

    public static volatile Failure failing = Failure.NONE;

    static final String ADD = """
            INSERT INTO breakable_totals AS t (order_id, total, changes, cancels)
            SELECT id, delta::numeric, n, c FROM unnest($1::text[], $2::text[], $3::int[], $4::int[]) AS r(id, delta, n, c)
             ORDER BY id
            ON CONFLICT (order_id) DO UPDATE SET total = t.total + EXCLUDED.total, changes = t.changes + EXCLUDED.changes,
                   cancels = t.cancels + EXCLUDED.cancels""";

    private record Sum(BigDecimal delta, int changes, int cancels) {
    }

    @Override
    public String name() {
        return "breakable";
    }

    @Override
    public List<String> tables() {
        return List.of("breakable_totals");
    }

    @Override
    public Uni<Committed> apply(SqlConnection conn, List<OrderChange> changes, Batch<?> batch) {
        Map<String, Sum> sums = new TreeMap<>();
        boolean breaks = false;
        for (OrderChange change : changes) {
            breaks |= change.orderId().startsWith(BREAKS);
            BigDecimal delta = change.after().total()
                    .subtract(change.before() == null ? BigDecimal.ZERO : change.before().total());
            sums.merge(change.orderId(), new Sum(delta, 1, 0),
                    (a, b) -> new Sum(a.delta().add(b.delta()), a.changes() + b.changes(), 0));
        }
        if (breaks && failing == Failure.EXCEPTION) {
            throw new IllegalStateException("a bug in the breakable read model's fold");
        }
        Uni<Void> before = breaks && failing == Failure.SQL
                ? conn.query("SELECT 1 / 0").execute().replaceWithVoid()
                : Uni.createFrom().voidItem();
        return before.chain(() -> write(conn, sums)).replaceWith(Committed.NOTHING);
    }

    @Override
    public Uni<Committed> cancelRequested(SqlConnection conn, OrderCancel cancel, ConsumerRecord<?, ?> source,
            boolean live) {
        if (cancel.request().orderId().startsWith(BREAKS) && failing != Failure.NONE) {
            return Uni.createFrom().failure(new IllegalStateException("a bug in the breakable read model's cancel"));
        }
        return write(conn, Map.of(cancel.request().orderId(), new Sum(BigDecimal.ZERO, 0, 1)))
                .replaceWith(Committed.NOTHING);
    }

    private static Uni<Void> write(SqlConnection conn, Map<String, Sum> sums) {
        List<String> ids = new ArrayList<>(sums.keySet());
        return conn.preparedQuery(ADD).execute(Tuple.of(ids.toArray(new String[0]),
                ids.stream().map(id -> sums.get(id).delta().toPlainString()).toArray(String[]::new),
                ids.stream().map(id -> sums.get(id).changes()).toArray(Integer[]::new),
                ids.stream().map(id -> sums.get(id).cancels()).toArray(Integer[]::new))).replaceWithVoid();
    }
}
