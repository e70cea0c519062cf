package io.readside.orders.repository;

import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.readside.orders.Order;
import io.readside.orders.OrderStatus;
import io.readside.projection.query.QueryPool;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/** The orders' queries, on the query pool. */
@ApplicationScoped
public class OrderRepository {

    /** The point lookup behind GET /orders/{id} (the hottest query of the service). */
    static final String BY_ID = "SELECT " + Order.COLUMNS + " FROM orders WHERE order_id = $1";

    /**
     * Keyset pagination in order id order, optionally for one user ({@code orders_by_user (user_id, order_id)}) and
     * one status ({@code orders_by_status (status, order_id)}): one statement per combination, so that each has a plan
     * that uses its index.
     */
    static String pageAfter(boolean ofUser, boolean ofStatus) {
        int next = 2;
        StringBuilder sql = new StringBuilder("SELECT " + Order.COLUMNS + " FROM orders WHERE order_id > $1");
        if (ofUser) {
            sql.append(" AND user_id = $").append(next++);
        }
        if (ofStatus) {
            sql.append(" AND status = $").append(next++);
        }
        return sql.append(" ORDER BY order_id LIMIT $").append(next).toString();
    }

    @Inject
    QueryPool queries;

    /** The order with this id, or null. */
    public Uni<Order> byId(String orderId) {
        return queries.execute(BY_ID, Tuple.of(orderId))
                .map(rows -> rows.size() == 0 ? null : Order.of(rows.iterator().next()));
    }

    /** At most {@code limit} orders with an id above {@code after}, of one user and one status when given. */
    public Uni<List<Order>> pageAfter(String after, Long userId, OrderStatus status, int limit) {
        Tuple parameters = Tuple.of(after);
        if (userId != null) {
            parameters.addLong(userId);
        }
        if (status != null) {
            parameters.addString(status.name());
        }
        return queries.execute(pageAfter(userId != null, status != null), parameters.addInteger(limit))
                .map(rows -> {
                    List<Order> orders = new ArrayList<>(rows.size());
                    for (Row row : rows) {
                        orders.add(Order.of(row));
                    }
                    return orders;
                });
    }
}
