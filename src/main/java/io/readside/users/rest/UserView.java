package io.readside.users.rest;

import java.math.BigDecimal;
import java.time.Instant;

import io.readside.users.User;

/**
 * {@code {"user_id":1007,"email":"user7@example.com","signed_up_at":"...","updated_at":"...","order_count":3,
 * "total_spent":81.20}}
 */
public record UserView(long userId, String email, Instant signedUpAt, Instant updatedAt, int orderCount,
        BigDecimal totalSpent) {

    static UserView of(User user) {
        return new UserView(user.userId, user.email, user.signedUpAt, user.updatedAt,
                user.orderCount == null ? 0 : user.orderCount,
                user.totalSpent == null ? new BigDecimal("0.00") : user.totalSpent);
    }
}
