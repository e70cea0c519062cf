package io.readside.orders;

import java.math.BigDecimal;
import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A row of the {@code orders} read model, as the query side reads it (the projector writes it with SQL). */
@Entity
@Table(name = "orders")
public class Order {

    @Id
    @Column(name = "order_id")
    public String orderId;

    @Column(name = "user_id")
    public long userId;

    public String category;

    public BigDecimal total;

    @Column(name = "item_count")
    public Integer itemCount;

    @Column(name = "created_at")
    public Instant createdAt;

    public String status;

    @Column(name = "processed_at")
    public Instant processedAt;
}
