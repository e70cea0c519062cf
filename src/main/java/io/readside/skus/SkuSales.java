package io.readside.skus;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import io.readside.orders.OrderChange;
import io.readside.orders.OrdersReadModel;
import io.readside.projection.Batch;
import io.readside.projection.Committed;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The skus read model: units sold, revenue and orders per SKU ({@code sku_totals}), and units and revenue per SKU and
 * minute of the orders' event time ({@code sku_minutes}, for rankings over a time range), from the orders' items
 * ({@link SkuFold} says how each item counts). A correction moves exactly the difference, a late order counts like
 * any other (nothing here closes), and a cancelled order still counts (orders placed, as in revenue). A key that a
 * correction emptied keeps its row at zero. It publishes nothing.
 */
@ApplicationScoped
public class SkuSales implements OrdersReadModel {

    static final String ADD_TOTALS = """
            INSERT INTO sku_totals AS t (sku, units, revenue, orders)
            SELECT sku, units, revenue::numeric, orders
              FROM unnest($1::text[], $2::bigint[], $3::text[], $4::int[]) AS r(sku, units, revenue, orders)
             ORDER BY sku
            ON CONFLICT (sku) DO UPDATE SET units = t.units + EXCLUDED.units, revenue = t.revenue + EXCLUDED.revenue,
                   orders = t.orders + EXCLUDED.orders""";

    static final String ADD_MINUTES = """
            INSERT INTO sku_minutes AS t (minute, sku, units, revenue)
            SELECT minute, sku, units, revenue::numeric
              FROM unnest($1::timestamptz[], $2::text[], $3::bigint[], $4::text[]) AS r(minute, sku, units, revenue)
             ORDER BY minute, sku
            ON CONFLICT (minute, sku) DO UPDATE SET units = t.units + EXCLUDED.units,
                   revenue = t.revenue + EXCLUDED.revenue""";

    @Override
    public String name() {
        return "skus";
    }

    @Override
    public List<String> tables() {
        return List.of("sku_totals", "sku_minutes");
    }

    /** Each order's latest items are all it counts: a new skus model fills itself from the orders table. */
    @Override
    public boolean fillsFromLatestVersions() {
        return true;
    }

    @Override
    public Uni<Committed> apply(SqlConnection conn, List<OrderChange> changes, Batch<?> batch) {
        SkuFold.Folded folded = SkuFold.fold(changes);
        if (folded.totals().isEmpty()) {
            return Uni.createFrom().item(Committed.NOTHING);
        }
        Map<String, SkuFold.Sum> totals = folded.totals();
        Map<SkuFold.Minute, SkuFold.Sum> minutes = folded.minutes();
        return conn.preparedQuery(ADD_TOTALS).execute(Tuple.of(totals.keySet().toArray(new String[0]),
                        totals.values().stream().map(SkuFold.Sum::units).toArray(Long[]::new),
                        totals.values().stream().map(sum -> sum.revenue().toPlainString()).toArray(String[]::new),
                        totals.values().stream().map(SkuFold.Sum::orders).toArray(Integer[]::new)))
                .chain(() -> conn.preparedQuery(ADD_MINUTES).execute(Tuple.of(
                        minutes.keySet().stream().map(key -> utc(key.minute())).toArray(OffsetDateTime[]::new),
                        minutes.keySet().stream().map(SkuFold.Minute::sku).toArray(String[]::new),
                        minutes.values().stream().map(SkuFold.Sum::units).toArray(Long[]::new),
                        minutes.values().stream().map(sum -> sum.revenue().toPlainString()).toArray(String[]::new))))
                .replaceWith(Committed.NOTHING);
    }

    private static OffsetDateTime utc(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }
}
