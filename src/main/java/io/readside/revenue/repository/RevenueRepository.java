package io.readside.revenue.repository;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/** Queries of {@code revenue_windows}: a window is in a range when it starts in {@code [from, to)}. */
@ApplicationScoped
public class RevenueRepository {

    public record Window(String category, Instant windowStart, Instant windowEnd, BigDecimal revenue, int orderCount) {
    }

    public record CategoryRevenue(String category, BigDecimal revenue, long orderCount) {
    }

    // windows an order moved out of keep a row with nothing in it; they are not shown
    static final String WINDOWS = """
            SELECT category, window_start, window_end, revenue, order_count
              FROM revenue_windows
             WHERE window_start >= $1 AND window_start < $2 AND ($3::text IS NULL OR category = $3)
               AND order_count > 0
             ORDER BY window_start, category""";

    static final String TOP = """
            SELECT category, sum(revenue) AS revenue, sum(order_count) AS order_count
              FROM revenue_windows
             WHERE window_start >= $1 AND window_start < $2
             GROUP BY category
            HAVING sum(order_count) > 0
             ORDER BY revenue DESC, category
             LIMIT $3""";

    @Inject
    Pool pool;

    public Uni<List<Window>> windows(String category, Instant from, Instant to) {
        return pool.preparedQuery(WINDOWS)
                .execute(Tuple.of(from.atOffset(ZoneOffset.UTC), to.atOffset(ZoneOffset.UTC), category))
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
        return pool.preparedQuery(TOP)
                .execute(Tuple.of(from.atOffset(ZoneOffset.UTC), to.atOffset(ZoneOffset.UTC), limit))
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
