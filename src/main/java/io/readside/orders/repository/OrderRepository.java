package io.readside.orders.repository;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Parameters;
import io.quarkus.panache.common.Sort;
import io.readside.orders.Order;
import io.readside.orders.OrderStatus;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

@ApplicationScoped
public class OrderRepository implements PanacheRepositoryBase<Order, String> {

    /** The point lookup behind GET /orders/{id}: one prepared statement on the pool, no session. */
    static final String BY_ID = """
            SELECT order_id, user_id, category, total, item_count, created_at, status, processed_at
              FROM orders WHERE order_id = $1""";

    @Inject
    Pool pool;

    /** The order with this id, or null; mapped straight from the row (the hottest query of the service). */
    public Uni<Order> byId(String orderId) {
        return pool.preparedQuery(BY_ID).execute(Tuple.of(orderId)).map(rows -> {
            if (rows.size() == 0) {
                return null;
            }
            Row row = rows.iterator().next();
            Order order = new Order();
            order.orderId = row.getString("order_id");
            order.userId = row.getLong("user_id");
            order.category = row.getString("category");
            order.total = row.getBigDecimal("total");
            order.itemCount = row.getInteger("item_count");
            order.createdAt = row.getOffsetDateTime("created_at").toInstant();
            order.status = row.getString("status");
            order.processedAt = row.getOffsetDateTime("processed_at").toInstant();
            return order;
        });
    }

    /**
     * Keyset pagination in order id order, optionally for one user and one status (indexes
     * {@code orders_by_user (user_id, order_id)} and {@code orders_by_status (status, order_id)}).
     */
    @WithSession
    public Uni<List<Order>> pageAfter(String after, Long userId, OrderStatus status, int limit) {
        StringBuilder query = new StringBuilder("orderId > :after");
        Parameters parameters = Parameters.with("after", after);
        if (userId != null) {
            query.append(" and userId = :userId");
            parameters.and("userId", userId);
        }
        if (status != null) {
            query.append(" and status = :status");
            parameters.and("status", status.name());
        }
        return find(query.toString(), Sort.by("orderId"), parameters).range(0, limit - 1).list();
    }
}
