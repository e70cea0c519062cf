package io.readside.users;

import java.math.BigDecimal;

import jakarta.enterprise.context.ApplicationScoped;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The users read model's {@code order_count} and {@code total_spent} (table {@code user_order_totals}), changed by
 * the orders channel inside its transaction.
 */
@ApplicationScoped
public class UserOrderTotalsProjector {

    static final String ADD_TO_TOTALS = """
            INSERT INTO user_order_totals AS t (user_id, order_count, total_spent)
            VALUES ($1, $2, $3)
            ON CONFLICT (user_id) DO UPDATE
                SET order_count = t.order_count + EXCLUDED.order_count,
                    total_spent = t.total_spent + EXCLUDED.total_spent""";

    /** Moves an order from {@code previousUser} (null: a new order) to {@code userId}, by the difference. */
    public Uni<Void> apply(SqlConnection conn, Long previousUser, BigDecimal previousTotal, long userId,
            BigDecimal total) {
        if (previousUser == null) {
            return add(conn, userId, 1, total);
        }
        if (previousUser == userId) {
            return total.compareTo(previousTotal) == 0 ? Uni.createFrom().voidItem()
                    : add(conn, userId, 0, total.subtract(previousTotal));
        }
        // two rows: the lower id first, so that concurrent writers lock them in the same order
        return previousUser < userId
                ? add(conn, previousUser, -1, previousTotal.negate()).chain(() -> add(conn, userId, 1, total))
                : add(conn, userId, 1, total).chain(() -> add(conn, previousUser, -1, previousTotal.negate()));
    }

    /** As {@link #ADD_TO_TOTALS} for many users in one statement (a batch's changes summed per user). */
    static final String ADD_TO_MANY_TOTALS = """
            INSERT INTO user_order_totals AS t (user_id, order_count, total_spent)
            SELECT d.user_id, d.order_count, d.total_spent::numeric
              FROM unnest($1::bigint[], $2::int[], $3::text[]) AS d(user_id, order_count, total_spent)
            ON CONFLICT (user_id) DO UPDATE
                SET order_count = t.order_count + EXCLUDED.order_count,
                    total_spent = t.total_spent + EXCLUDED.total_spent""";

    /** Adds {@code orders} and {@code amounts} to the users' totals, in the given order (the lock order). */
    public Uni<Void> addAll(SqlConnection conn, Long[] userIds, Integer[] orders, BigDecimal[] amounts) {
        if (userIds.length == 0) {
            return Uni.createFrom().voidItem();
        }
        String[] texts = new String[amounts.length];
        for (int i = 0; i < amounts.length; i++) {
            texts[i] = amounts[i].toPlainString();
        }
        return conn.preparedQuery(ADD_TO_MANY_TOTALS).execute(Tuple.of(userIds, orders, texts)).replaceWithVoid();
    }

    private static Uni<Void> add(SqlConnection conn, long userId, int orders, BigDecimal amount) {
        return conn.preparedQuery(ADD_TO_TOTALS).execute(Tuple.of(userId, orders, amount)).replaceWithVoid();
    }
}
