package io.readside.users;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import jakarta.enterprise.context.ApplicationScoped;

import io.readside.orders.OrderChange;
import io.readside.orders.OrdersReadModel;
import io.readside.projection.Batch;
import io.readside.projection.Committed;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The users read model's {@code order_count} and {@code total_spent} (table {@code user_order_totals}), a table
 * aggregation over the orders changelog: the adder counts the new version for its user, the subtractor takes the
 * previous version off its user, so a corrected total moves by the difference and an order moved to another user
 * moves whole. A cancelled order still counts: these are the orders a user placed (as the guide's aggregation), and
 * the order's status says whether it went ahead.
 */
@ApplicationScoped
public class UserOrderTotals implements OrdersReadModel {

    /** Additive: exact with any number of partitions and instances, because PostgreSQL does the sum. */
    static final String ADD_TO_TOTALS = """
            INSERT INTO user_order_totals AS t (user_id, order_count, total_spent)
            SELECT d.user_id, d.order_count, d.total_spent::numeric
              FROM unnest($1::bigint[], $2::int[], $3::text[]) AS d(user_id, order_count, total_spent)
            ON CONFLICT (user_id) DO UPDATE
                SET order_count = t.order_count + EXCLUDED.order_count,
                    total_spent = t.total_spent + EXCLUDED.total_spent""";

    /** A change to a user's totals. */
    public record Delta(int orders, BigDecimal amount) {
        Delta plus(Delta other) {
            return new Delta(orders + other.orders, amount.add(other.amount));
        }
    }

    /**
     * The summed delta of every user the changes touch (also those that sum to zero), by user id: the order in which
     * rows are written, one lock order between writers. Pure.
     */
    public static Map<Long, Delta> fold(List<OrderChange> changes) {
        Map<Long, Delta> deltas = new TreeMap<>();
        for (OrderChange change : changes) {
            if (change.before() != null) { // subtractor
                deltas.merge(change.before().userId(), new Delta(-1, change.before().total().negate()), Delta::plus);
            }
            deltas.merge(change.after().userId(), new Delta(1, change.after().total()), Delta::plus); // adder
        }
        return deltas;
    }

    @Override
    public String name() {
        return "user-order-totals";
    }

    @Override
    public List<String> tables() {
        return List.of("user_order_totals");
    }

    @Override
    public Uni<Committed> apply(SqlConnection conn, List<OrderChange> changes, Batch<?> batch) {
        Map<Long, Delta> deltas = fold(changes);
        int n = deltas.size();
        Long[] users = new Long[n];
        Integer[] orders = new Integer[n];
        String[] amounts = new String[n];
        int i = 0;
        for (Map.Entry<Long, Delta> delta : deltas.entrySet()) {
            users[i] = delta.getKey();
            orders[i] = delta.getValue().orders();
            amounts[i++] = delta.getValue().amount().toPlainString();
        }
        return conn.preparedQuery(ADD_TO_TOTALS).execute(Tuple.of(users, orders, amounts))
                .replaceWith(Committed.NOTHING);
    }
}
