package io.readside.users;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;

import io.vertx.mutiny.sqlclient.Row;

/**
 * A user of the read model, as the query side reads it: a row of {@code users} with its order figures from
 * {@code user_order_totals} (an outer join; none yet = zero). The projectors write both with SQL.
 */
public class User {

    public Long userId;

    public String email;

    public Instant signedUpAt;

    public Instant updatedAt;

    public Integer orderCount;

    public BigDecimal totalSpent;

    /** A row of {@link io.readside.users.repository.UserRepository}'s queries (totals null: no order yet). */
    public static User of(Row row) {
        User user = new User();
        user.userId = row.getLong("user_id");
        user.email = row.getString("email");
        user.signedUpAt = instant(row.getOffsetDateTime("signed_up_at"));
        user.updatedAt = instant(row.getOffsetDateTime("updated_at"));
        user.orderCount = row.getInteger("order_count");
        user.totalSpent = row.getBigDecimal("total_spent");
        return user;
    }

    private static Instant instant(OffsetDateTime time) {
        return time == null ? null : time.toInstant();
    }
}
