package io.readside.revenue;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.readside.orders.OrderChange;
import io.readside.projection.Batch;
import io.readside.revenue.RevenueWindows.Contribution;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Table {@code revenue_contributions}: the revenue each order has in {@code revenue_windows} now (what the subtractor
 * takes out), and the partition whose stream time counted it (the clock that says whether its window is still open).
 */
final class RevenueContributions {

    static final String PREVIOUS_CONTRIBUTIONS = """
            SELECT order_id, category, window_start, amount, counted_partition FROM revenue_contributions
             WHERE order_id = ANY($1)""";

    /** The clocks of the partitions that counted contributions a batch's changes arrive at from another partition. */
    static final String CLOCKS = """
            SELECT kafka_partition, stream_time FROM projection_positions
             WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = ANY($3) AND stream_time IS NOT NULL""";

    static final String SAVE_CONTRIBUTIONS = """
            INSERT INTO revenue_contributions AS c (order_id, category, window_start, amount, counted_partition)
            SELECT r.order_id, r.category, r.window_start, r.amount::numeric, r.counted_partition
              FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::int[])
                   AS r(order_id, category, window_start, amount, counted_partition)
            ON CONFLICT (order_id) DO UPDATE
                SET category = EXCLUDED.category, window_start = EXCLUDED.window_start, amount = EXCLUDED.amount,
                    counted_partition = EXCLUDED.counted_partition""";

    static final String DROP_CONTRIBUTIONS = "DELETE FROM revenue_contributions WHERE order_id = ANY($1)";

    /** The orders' contributions, and the partition that counted each (absent: counted before V13). */
    record Previous(Map<String, Contribution> contributions, Map<String, Integer> countedOn) {
    }

    private RevenueContributions() {
    }

    static Uni<Previous> previous(SqlConnection conn, String[] orderIds) {
        return conn.preparedQuery(PREVIOUS_CONTRIBUTIONS).execute(Tuple.of(orderIds)).map(rows -> {
            Map<String, Contribution> previous = new HashMap<>();
            Map<String, Integer> countedOn = new HashMap<>();
            for (Row row : rows) {
                previous.put(row.getString("order_id"), new Contribution(row.getString("category"),
                        row.getOffsetDateTime("window_start").toInstant(), row.getBigDecimal("amount")));
                Integer on = row.getInteger("counted_partition");
                if (on != null) {
                    countedOn.put(row.getString("order_id"), on);
                }
            }
            return new Previous(previous, countedOn);
        });
    }

    /**
     * The stored stream time of each partition that counted a contribution a change arrives at from another
     * partition (none is read in the usual case: every change on the partition that counted its order).
     */
    static Uni<Map<Integer, Instant>> clocks(SqlConnection conn, String group, Batch<?> batch,
            List<OrderChange> changes, Map<String, Integer> previousOn) {
        Integer[] elsewhere = changes.stream().map(change -> previousOn.get(change.orderId()))
                .filter(java.util.Objects::nonNull).distinct()
                .filter(on -> changes.stream().anyMatch(change -> on.equals(previousOn.get(change.orderId()))
                        && change.partition() != on))
                .toArray(Integer[]::new);
        if (elsewhere.length == 0 || batch.inputs().isEmpty()) {
            return Uni.createFrom().item(Map.of());
        }
        String topic = batch.inputs().get(0).record().topic();
        return conn.preparedQuery(CLOCKS).execute(Tuple.of(group, topic, elsewhere)).map(rows -> {
            Map<Integer, Instant> clocks = new HashMap<>();
            rows.forEach(row -> clocks.put(row.getInteger(0), row.getOffsetDateTime(1).toInstant()));
            return clocks;
        });
    }

    /** The changed contributions (null: the order counts nowhere now), with the partition that counted each. */
    static Uni<Void> save(SqlConnection conn, Map<String, Contribution> counted,
            Map<String, Integer> countedOn) {
        List<String> dropped = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        List<String> categories = new ArrayList<>();
        List<OffsetDateTime> starts = new ArrayList<>();
        List<String> amounts = new ArrayList<>();
        List<Integer> partitions = new ArrayList<>();
        counted.forEach((orderId, contribution) -> {
            if (contribution == null) {
                dropped.add(orderId);
            } else {
                ids.add(orderId);
                categories.add(contribution.category());
                starts.add(RevenueByCategory.utc(contribution.windowStart()));
                amounts.add(contribution.amount().toPlainString());
                partitions.add(countedOn.get(orderId));
            }
        });
        Uni<Void> saved = ids.isEmpty() ? Uni.createFrom().voidItem()
                : conn.preparedQuery(SAVE_CONTRIBUTIONS).execute(Tuple.of(ids.toArray(new String[0]),
                        categories.toArray(new String[0]), starts.toArray(new OffsetDateTime[0]),
                        amounts.toArray(new String[0]), partitions.toArray(new Integer[0]))).replaceWithVoid();
        return dropped.isEmpty() ? saved : saved.chain(() -> conn.preparedQuery(DROP_CONTRIBUTIONS)
                .execute(Tuple.of(dropped.toArray(new String[0]))).replaceWithVoid());
    }
}
