package io.readside.revenue;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Read model {@code revenue_windows}: applies the window deltas of an order inside the transaction of the orders
 * channel (which also stores the record's position), and returns the windows' new state for revenue-by-category.
 */
@ApplicationScoped
public class RevenueProjector {

    /** Additive: exact with any number of partitions and instances, because PostgreSQL does the sum. */
    static final String ADD_TO_WINDOW = """
            INSERT INTO revenue_windows AS w (category, window_start, window_end, revenue, order_count)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (category, window_start) DO UPDATE
                SET revenue = w.revenue + EXCLUDED.revenue,
                    order_count = w.order_count + EXCLUDED.order_count
            RETURNING category, window_start, window_end, revenue, order_count""";

    /** The state of a window after a change, as published on revenue-by-category. */
    public record WindowState(String category, Instant windowStart, Instant windowEnd, BigDecimal revenue,
            int orderCount) {

        /** From a row with the columns of {@code revenue_windows}. */
        public static WindowState of(Row row) {
            return new WindowState(row.getString("category"), row.getOffsetDateTime("window_start").toInstant(),
                    row.getOffsetDateTime("window_end").toInstant(), row.getBigDecimal("revenue"),
                    row.getInteger("order_count"));
        }
    }

    /** Applies the deltas one after the other, in the plan's order (a fixed lock order between writers). */
    public Uni<List<WindowState>> apply(SqlConnection conn, RevenueWindows windows, List<RevenueWindows.Delta> deltas) {
        return Multi.createFrom().iterable(deltas)
                .onItem().transformToUniAndConcatenate(delta -> conn.preparedQuery(ADD_TO_WINDOW)
                        .execute(Tuple.of(delta.category(), utc(delta.windowStart()),
                                utc(windows.windowEnd(delta.windowStart())), delta.revenue(), delta.orderCount()))
                        .map(rows -> WindowState.of(rows.iterator().next())))
                .collect().asList();
    }

    /** As {@link #ADD_TO_WINDOW} for many windows in one statement (a batch's deltas summed per window). */
    static final String ADD_TO_WINDOWS = """
            INSERT INTO revenue_windows AS w (category, window_start, window_end, revenue, order_count)
            SELECT d.category, d.window_start, d.window_end, d.revenue::numeric, d.order_count
              FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::int[])
                   AS d(category, window_start, window_end, revenue, order_count)
            ON CONFLICT (category, window_start) DO UPDATE
                SET revenue = w.revenue + EXCLUDED.revenue,
                    order_count = w.order_count + EXCLUDED.order_count
            RETURNING category, window_start, window_end, revenue, order_count""";

    /** Adds summed deltas, one row per window, in the given order (a fixed lock order between writers). */
    public Uni<List<WindowState>> applyAll(SqlConnection conn, RevenueWindows windows,
            java.util.Collection<RevenueWindows.Delta> deltas) {
        if (deltas.isEmpty()) {
            return Uni.createFrom().item(List.of());
        }
        int n = deltas.size();
        String[] categories = new String[n];
        OffsetDateTime[] starts = new OffsetDateTime[n];
        OffsetDateTime[] ends = new OffsetDateTime[n];
        String[] revenues = new String[n];
        Integer[] counts = new Integer[n];
        int i = 0;
        for (RevenueWindows.Delta delta : deltas) {
            categories[i] = delta.category();
            starts[i] = utc(delta.windowStart());
            ends[i] = utc(windows.windowEnd(delta.windowStart()));
            revenues[i] = delta.revenue().toPlainString();
            counts[i++] = delta.orderCount();
        }
        return conn.preparedQuery(ADD_TO_WINDOWS).execute(Tuple.of(categories, starts, ends, revenues, counts))
                .map(rows -> {
                    List<WindowState> states = new java.util.ArrayList<>(n);
                    rows.forEach(row -> states.add(WindowState.of(row)));
                    return states;
                });
    }

    private static OffsetDateTime utc(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }
}
