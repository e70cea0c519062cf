package io.readside.orders.rest;

import java.math.BigDecimal;
import java.time.Instant;

import io.readside.orders.Order;

/** An order as the API shows it; {@code total} is a JSON number with two decimals. */
public record OrderView(String orderId, long userId, String category, BigDecimal total, Integer itemCount,
        Instant createdAt, String status, Instant processedAt) {

    static OrderView of(Order order) {
        return new OrderView(order.orderId, order.userId, order.category, order.total, order.itemCount,
                order.createdAt, order.status, order.processedAt);
    }
}
