package io.readside.orders.repository;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Parameters;
import io.quarkus.panache.common.Sort;
import io.readside.orders.Order;
import io.readside.orders.OrderStatus;
import io.smallrye.mutiny.Uni;

@ApplicationScoped
@WithSession
public class OrderRepository implements PanacheRepositoryBase<Order, String> {

    /**
     * Keyset pagination in order id order, optionally for one user and one status (indexes
     * {@code orders_by_user (user_id, order_id)} and {@code orders_by_status (status, order_id)}).
     */
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
