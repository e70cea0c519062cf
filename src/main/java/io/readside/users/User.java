package io.readside.users;

import java.time.Instant;

import java.math.BigDecimal;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.PrimaryKeyJoinColumn;
import jakarta.persistence.SecondaryTable;
import jakarta.persistence.Table;

/**
 * A user of the read model, as the query side reads it: a row of {@code users} with its order figures from
 * {@code user_order_totals} (an outer join; none yet = zero). The projectors write both with SQL.
 */
@Entity
@Table(name = "users")
@SecondaryTable(name = "user_order_totals", pkJoinColumns = @PrimaryKeyJoinColumn(name = "user_id"))
public class User {

    @Id
    @Column(name = "user_id")
    public Long userId;

    public String email;

    @Column(name = "signed_up_at")
    public Instant signedUpAt;

    @Column(name = "updated_at")
    public Instant updatedAt;

    @Column(table = "user_order_totals", name = "order_count", insertable = false, updatable = false)
    public Integer orderCount;

    @Column(table = "user_order_totals", name = "total_spent", insertable = false, updatable = false)
    public BigDecimal totalSpent;
}
