package io.readside.skus.rest;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;

import io.readside.orders.OrderEvent;
import io.readside.orders.OrdersProjector;
import io.readside.projection.consistency.ConsistentReads;
import io.readside.projection.query.QueryPool;
import io.readside.security.Roles;
import io.readside.values.Quote;
import io.readside.web.Problem;
import io.readside.web.ProblemException;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/** Queries of the skus read model. Money is a string: it never passes through a double. */
@ConsistentReads(value = {OrdersProjector.CHANNEL}, readModels = "skus")
@Path("/skus")
@RolesAllowed(Roles.READER)
@Produces(MediaType.APPLICATION_JSON)
public class SkusResource {

    static final int MAX_TOP = 100;

    static final String TOTALS = "SELECT units, revenue, orders FROM sku_totals WHERE sku = $1";

    /** The minutes of the range in key order (the primary key), summed per SKU. */
    static final String TOP = """
            SELECT sku, sum(units) AS units, sum(revenue) AS revenue
              FROM sku_minutes
             WHERE minute >= $1 AND minute < $2
             GROUP BY sku
            HAVING sum(units) <> 0 OR sum(revenue) <> 0
             ORDER BY sum(revenue) DESC, sum(units) DESC, sku
             LIMIT $3""";

    @Inject
    QueryPool queries;

    /** A ranking reads at most this much time, so that one request cannot scan everything. */
    @ConfigProperty(name = "readside.skus.max-query-range", defaultValue = "31d")
    Duration maxRange;

    public record SkuView(String sku, long units, String revenue, int orders) {
    }

    public record TopAnswer(Instant from, Instant to, List<SkuSold> skus) {
    }

    public record SkuSold(String sku, long units, String revenue) {
    }

    /** Everything one SKU sold: units, revenue and the orders that list it (a SKU named "top" is not reachable here). */
    @GET
    @Path("/{sku}")
    public Uni<SkuView> sku(@Parameter(description = "A SKU as the orders' items name it", example = "b-1")
            @PathParam("sku") String sku) {
        String wanted = Problem.text("sku", sku, OrderEvent.MAX_SKU_LENGTH);
        return queries.execute(TOTALS, Tuple.of(wanted)).map(rows -> {
            if (rows.size() == 0) {
                throw ProblemException.notFound("no sales of SKU " + Quote.of(wanted));
            }
            Row row = rows.iterator().next();
            return new SkuView(wanted, row.getLong("units"), plain(row.getBigDecimal("revenue")),
                    row.getInteger("orders"));
        });
    }

    /**
     * SKUs ranked by revenue (then units, then name) over the orders created in {@code [from, to)}, counted by the
     * minute: an order counts when the minute it was created in starts in the range.
     */
    @GET
    @Path("/top")
    public Uni<TopAnswer> top(
            @Parameter(description = "Start of the range (inclusive), ISO-8601", example = "2025-01-01T00:00:00Z")
            @QueryParam("from") String from,
            @Parameter(description = "End of the range (exclusive), ISO-8601; at most readside.skus.max-query-range "
                    + "(31 days) after from", example = "2025-01-02T00:00:00Z") @QueryParam("to") String to,
            @QueryParam("limit") @DefaultValue("10") String limit) {
        Instant start = Problem.instant("from", from);
        Instant end = Problem.instant("to", to);
        if (!start.isBefore(end)) {
            throw ProblemException.badRequest("'from' must be before 'to'");
        }
        if (Duration.between(start, end).compareTo(maxRange) > 0) {
            throw ProblemException.badRequest("the range from 'from' to 'to' is longer than " + maxRange
                    + "; ask for a shorter one");
        }
        int size = Problem.intBetween("limit", limit, 1, MAX_TOP);
        return queries.execute(TOP, Tuple.of(start.atOffset(ZoneOffset.UTC), end.atOffset(ZoneOffset.UTC),
                size)).map(rows -> {
                    List<SkuSold> skus = new ArrayList<>();
                    rows.forEach(row -> skus.add(new SkuSold(row.getString("sku"), row.getLong("units"),
                            plain(row.getBigDecimal("revenue")))));
                    return new TopAnswer(start, end, skus);
                });
    }

    private static String plain(BigDecimal money) {
        return money.toPlainString();
    }
}
