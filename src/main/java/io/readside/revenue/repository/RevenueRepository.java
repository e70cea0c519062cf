package io.readside.revenue.repository;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.readside.projection.query.QueryPool;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/** Queries of {@code revenue_windows}: a window is in a range when it starts in {@code [from, to)}. */
@ApplicationScoped
public class RevenueRepository {

    public record Window(String category, Instant windowStart, Instant windowEnd, BigDecimal revenue, int orderCount) {
    }

    public record CategoryRevenue(String category, BigDecimal revenue, long orderCount) {
    }

    /**
     * One page of the windows of a range in (window_start, category) order, after the cursor ($3, $4); the first
     * page's cursor is (from, ''), before every window of the range (a category is never empty). The index
     * revenue_windows_by_start_category (V7) gives this order, so the page reads its rows and stops.
     * Windows an order moved out of keep a row with nothing in it; they are not shown.
     */
    static final String WINDOWS = """
            SELECT category, window_start, window_end, revenue, order_count
              FROM revenue_windows
             WHERE window_start >= $1 AND window_start < $2
               AND (window_start, category) > ($3, $4)
               AND order_count > 0
             ORDER BY window_start, category
             LIMIT $5""";

    /** As {@link #WINDOWS} for one category: the primary key (category, window_start) gives the order. */
    static final String WINDOWS_OF_CATEGORY = """
            SELECT category, window_start, window_end, revenue, order_count
              FROM revenue_windows
             WHERE category = $6 AND window_start >= $1 AND window_start < $2
               AND (window_start, category) > ($3, $4)
               AND order_count > 0
             ORDER BY window_start, category
             LIMIT $5""";

    /** Where a page of windows starts: after this window (exclusive). */
    public record Cursor(Instant windowStart, String category) {
        public static Cursor before(Instant from) {
            return new Cursor(from, "");
        }
    }

    static final String TOP = """
            SELECT category, sum(revenue) AS revenue, sum(order_count) AS order_count
              FROM revenue_windows
             WHERE window_start >= $1 AND window_start < $2
             GROUP BY category
            HAVING sum(order_count) > 0
             ORDER BY revenue DESC, category
             LIMIT $3""";

    @Inject
    QueryPool queries;

    /** At most {@code limit} windows that start in {@code [from, to)} after the cursor, of one category or all. */
    public Uni<List<Window>> windows(String category, Instant from, Instant to, Cursor after, int limit) {
        Tuple parameters = Tuple.of(from.atOffset(ZoneOffset.UTC), to.atOffset(ZoneOffset.UTC),
                after.windowStart().atOffset(ZoneOffset.UTC), after.category(), limit);
        if (category != null) {
            parameters.addString(category);
        }
        return queries.execute(category == null ? WINDOWS : WINDOWS_OF_CATEGORY, parameters)
                .map(rows -> {
                    List<Window> windows = new ArrayList<>(rows.size());
                    for (Row row : rows) {
                        windows.add(new Window(row.getString("category"),
                                row.getOffsetDateTime("window_start").toInstant(),
                                row.getOffsetDateTime("window_end").toInstant(), row.getBigDecimal("revenue"),
                                row.getInteger("order_count")));
                    }
                    return windows;
                });
    }

    public Uni<List<CategoryRevenue>> top(Instant from, Instant to, int limit) {
        return queries.execute(TOP, Tuple.of(from.atOffset(ZoneOffset.UTC), to.atOffset(ZoneOffset.UTC), limit))
                .map(rows -> {
                    List<CategoryRevenue> top = new ArrayList<>(rows.size());
                    for (Row row : rows) {
                        top.add(new CategoryRevenue(row.getString("category"), row.getBigDecimal("revenue"),
                                row.getLong("order_count")));
                    }
                    return top;
                });
    }
}
