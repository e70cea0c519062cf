package io.readside.orders;

import java.math.BigDecimal;
import java.time.Instant;

import io.vertx.mutiny.sqlclient.Row;


/** A row of the {@code orders} read model, as the query side reads it (the projector writes it with SQL). */
public class Order {

    /** The columns {@link #of(Row)} reads, in a SELECT of {@code orders}. */
    public static final String COLUMNS = "order_id, user_id, category, total, item_count, created_at, status, processed_at";


    public String orderId;

    public long userId;

    public String category;

    public BigDecimal total;

    public Integer itemCount;

    public Instant createdAt;

    public String status;

    public Instant processedAt;

    public static Order of(Row row) {
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
    }
}
