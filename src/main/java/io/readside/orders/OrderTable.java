package io.readside.orders;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/** The statements of the orders entity table ({@code orders}, one row per order id: its latest version). */
final class OrderTable {

    /**
     * Serialises the versions of one order across partitions (and instances): a transaction-scoped advisory lock per
     * order id, taken in one order (the ids' hashes, sorted) within each write (a batch split around a cancel request
     * takes each part's in turn: two such batches can deadlock, and the engine retries the one PostgreSQL ends; see
     * docs/guarantees.md). Without it, two versions of a new order on two partitions (keys hash differently once
     * partitions are added) would both see "no previous version" and both count the order. Whichever commits last is
     * the order's version. The two-key form keeps these locks in a space of their own
     * ({@link OrdersProjector#ORDER_LOCKS}), apart from the single-key locks of rebuilds and the outbox relay, so that
     * no order id, however chosen, can collide with them. A rebuild's replay takes no such lock: the shadow tables have
     * one writer.
     */
    static final String LOCK_ORDER_IDS = """
            SELECT pg_advisory_xact_lock($2, k)
              FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest($1::text[]) AS id ORDER BY k) AS ids""";

    static final String PREVIOUS_VERSIONS = """
            SELECT order_id, user_id, category, total, item_count, items::text AS items, created_at
              FROM orders WHERE order_id = ANY($1)
             ORDER BY order_id
               FOR UPDATE""";

    /** The final version of every order a batch changed; a known order's status (the saga's) is kept. */
    static final String UPSERT_ALL = """
            INSERT INTO orders AS o (order_id, user_id, category, total, item_count, items, created_at, status,
                                     processed_at, source_partition, source_offset, payment_requested_at,
                                     status_changed_at)
            SELECT r.order_id, r.user_id, r.category, r.total::numeric, r.item_count, r.items::jsonb, r.created_at,
                   'PENDING', r.processed_at, r.source_partition, r.source_offset, r.processed_at, r.processed_at
              FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::int[], $6::timestamptz[],
                          $7::timestamptz[], $8::int[], $9::bigint[], $10::text[])
                   AS r(order_id, user_id, category, total, item_count, created_at, processed_at, source_partition,
                        source_offset, items)
             ORDER BY r.order_id
            ON CONFLICT (order_id) DO UPDATE
                SET user_id = EXCLUDED.user_id, category = EXCLUDED.category, total = EXCLUDED.total,
                    item_count = EXCLUDED.item_count, items = EXCLUDED.items, created_at = EXCLUDED.created_at,
                    processed_at = EXCLUDED.processed_at, source_partition = EXCLUDED.source_partition,
                    source_offset = EXCLUDED.source_offset""";

    /** For redelivered records: which record each order's row was last written from, and when. */
    static final String LATEST_VERSIONS = """
            SELECT order_id, source_partition, source_offset, processed_at FROM orders WHERE order_id = ANY($1)""";

    /** An order's processed_at is when this version was first processed, not when a rebuild replayed it. */
    static final String KEEP_PROCESSED_AT = """
            UPDATE %2$s.orders r SET processed_at = l.processed_at
              FROM %1$s.orders l
             WHERE l.order_id = r.order_id AND l.source_partition = r.source_partition
               AND l.source_offset = r.source_offset AND l.processed_at <> r.processed_at
               AND ($1::timestamptz IS NULL OR r.processed_at >= $1)""";

    /**
     * A read model rebuilt alone is switched in with the items its replay saw: a live row stored before V15 (items
     * NULL) of the same version gets them, or its next version would subtract nothing the replay counted.
     */
    static final String KEEP_ITEMS = """
            UPDATE %1$s.orders l SET items = r.items
              FROM %2$s.orders r
             WHERE r.order_id = l.order_id AND l.items IS NULL AND r.items IS NOT NULL
               AND l.source_partition = r.source_partition AND l.source_offset = r.source_offset""";

    /**
     * What a read model rebuilt alone would be folded against from the switch on, and where the replay disagrees with
     * the live side: orders whose rebuilt row is not the live row's version (or that one of the two lacks), and
     * replayed partitions of the group ($1) and topic ($2) whose stream time differs from live (a partition the replay
     * found empty keeps its live clock at the switch). It is switched in only when both are 0.
     */
    static final String DIFFERING_FROM_LIVE = """
            SELECT (SELECT count(*) FROM %1$s.orders l FULL JOIN %2$s.orders r ON r.order_id = l.order_id
                     WHERE (l.source_partition, l.source_offset)
                           IS DISTINCT FROM (r.source_partition, r.source_offset)) AS orders,
                   (SELECT count(*) FROM %2$s.projection_positions r LEFT JOIN %1$s.projection_positions l
                        ON l.consumer_group = r.consumer_group AND l.topic = r.topic
                       AND l.kafka_partition = r.kafka_partition
                     WHERE r.consumer_group = $1 AND r.topic = $2
                       AND l.stream_time IS DISTINCT FROM r.stream_time) AS stream_times""";

    /**
     * The saga's state is not in topic orders (payment results and timeouts move it): it is taken from the live rows.
     * Payment results do not wait on the orders positions, so in the switch the live table is held against writers.
     */
    static final String KEEP_SAGA_STATE = """
            UPDATE %2$s.orders r SET status = l.status, payment_requested_at = l.payment_requested_at,
                   status_changed_at = l.status_changed_at, cancel_event_id = l.cancel_event_id
              FROM %1$s.orders l
             WHERE l.order_id = r.order_id
               AND (l.status, l.payment_requested_at, l.status_changed_at, l.cancel_event_id)
                   IS DISTINCT FROM (r.status, r.payment_requested_at, r.status_changed_at, r.cancel_event_id)""";

    private OrderTable() {
    }

    static Uni<Void> lock(SqlConnection conn, String[] orderIds) {
        return conn.preparedQuery(LOCK_ORDER_IDS).execute(Tuple.of(orderIds, OrdersProjector.ORDER_LOCKS))
                .replaceWithVoid();
    }

    /** The orders' current versions, locked for the transaction (absent: new). */
    static Uni<Map<String, OrderEvent>> previous(SqlConnection conn, String[] orderIds) {
        return conn.preparedQuery(PREVIOUS_VERSIONS).execute(Tuple.of(orderIds)).map(rows -> {
            Map<String, OrderEvent> previous = new HashMap<>();
            for (Row row : rows) {
                String id = row.getString("order_id");
                previous.put(id, new OrderEvent(id, row.getLong("user_id"), row.getString("category"),
                        row.getBigDecimal("total"), row.getInteger("item_count"), OrderItems.read(row.getString("items")),
                        row.getOffsetDateTime("created_at").toInstant(), null));
            }
            return previous;
        });
    }

    /** A page of the latest versions in order-id order, after $1 ('' for the first), at most $2. */
    static final String LATEST_PAGE = """
            SELECT order_id, user_id, category, total, item_count, items::text AS items, created_at, source_partition,
                   source_offset, processed_at
              FROM orders WHERE order_id > $1 ORDER BY order_id LIMIT $2""";

    /** The page as changes from nothing to each order's latest version (a fill from the orders table). */
    static Uni<List<OrderChange>> latestPage(SqlConnection conn, String after, int size) {
        return conn.preparedQuery(LATEST_PAGE).execute(Tuple.of(after, size)).map(rows -> {
            List<OrderChange> changes = new ArrayList<>();
            for (Row row : rows) {
                String id = row.getString("order_id");
                Instant createdAt = row.getOffsetDateTime("created_at").toInstant();
                changes.add(new OrderChange(null, new OrderEvent(id, row.getLong("user_id"), row.getString("category"),
                        row.getBigDecimal("total"), row.getInteger("item_count"), OrderItems.read(row.getString("items")),
                        createdAt, null), row.getInteger("source_partition"), row.getLong("source_offset"), createdAt,
                        row.getOffsetDateTime("processed_at").toInstant()));
            }
            return changes;
        });
    }

    static Uni<Void> upsert(SqlConnection conn, Collection<OrderVersions.Row> rows) {
        int n = rows.size();
        if (n == 0) {
            return Uni.createFrom().voidItem();
        }
        String[] ids = new String[n];
        Long[] users = new Long[n];
        String[] categories = new String[n];
        String[] totals = new String[n];
        Integer[] itemCounts = new Integer[n];
        OffsetDateTime[] createdAt = new OffsetDateTime[n];
        OffsetDateTime[] processedAt = new OffsetDateTime[n];
        Integer[] partitions = new Integer[n];
        Long[] offsets = new Long[n];
        String[] items = new String[n];
        int i = 0;
        for (OrderVersions.Row row : rows) {
            OrderEvent order = row.order();
            ids[i] = order.orderId();
            users[i] = order.userId();
            categories[i] = order.category();
            totals[i] = order.total().toPlainString();
            itemCounts[i] = order.itemCount();
            createdAt[i] = utc(order.createdAt());
            processedAt[i] = utc(row.processedAt());
            partitions[i] = row.partition();
            items[i] = OrderItems.write(order.items());
            offsets[i++] = row.offset();
        }
        return conn.preparedQuery(UPSERT_ALL).execute(Tuple.from(new Object[] { ids, users, categories, totals,
                itemCounts, createdAt, processedAt, partitions, offsets, items })).replaceWithVoid();
    }

    static Uni<RowSet<Row>> latest(SqlClient client, String[] orderIds) {
        return client.preparedQuery(LATEST_VERSIONS).execute(Tuple.of(orderIds));
    }

    static OffsetDateTime utc(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }
}
