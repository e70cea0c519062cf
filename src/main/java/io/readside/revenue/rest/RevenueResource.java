package io.readside.revenue.rest;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.readside.orders.OrdersProjector;
import io.readside.projection.consistency.ConsistentReads;
import io.readside.revenue.repository.RevenueRepository.CategoryRevenue;
import io.readside.revenue.repository.RevenueRepository.Window;
import io.readside.revenue.repository.RevenueRepository;
import io.readside.security.Roles;
import io.readside.web.Problem;
import io.readside.web.ProblemException;
import io.smallrye.mutiny.Uni;

@ConsistentReads({OrdersProjector.CHANNEL})
@Path("/revenue")
@RolesAllowed(Roles.READER)
@Produces(MediaType.APPLICATION_JSON)
public class RevenueResource {

    static final int MAX_TOP = 100;

    @Inject
    RevenueRepository revenue;

    /** A range query reads at most this much time, so that one request cannot scan everything. */
    @ConfigProperty(name = "readside.revenue.max-query-range")
    Duration maxRange;

    public record WindowsAnswer(String category, Instant from, Instant to, List<WindowView> windows) {
    }

    /** {@code revenue} is a string: money never passes through a double. */
    public record WindowView(String category, Instant windowStart, Instant windowEnd, String revenue, int orderCount) {
        static WindowView of(Window window) {
            return new WindowView(window.category(), window.windowStart(), window.windowEnd(),
                    window.revenue().toPlainString(), window.orderCount());
        }
    }

    public record TopAnswer(Instant from, Instant to, List<CategoryView> categories) {
    }

    public record CategoryView(String category, String revenue, long orderCount) {
        static CategoryView of(CategoryRevenue category) {
            return new CategoryView(category.category(), category.revenue().toPlainString(), category.orderCount());
        }
    }

    /** The windows that start in {@code [from, to)}, oldest first; all categories when none is given. */
    @GET
    public Uni<WindowsAnswer> windows(@QueryParam("category") String category, @QueryParam("from") String from,
            @QueryParam("to") String to) {
        String wanted = category == null ? null : Problem.text("category", category, 100);
        Instant start = Problem.instant("from", from);
        Instant end = Problem.instant("to", to);
        checkRange(start, end);
        return revenue.windows(wanted, start, end).map(windows -> new WindowsAnswer(wanted, start, end,
                windows.stream().map(WindowView::of).toList()));
    }

    /** Categories ranked by revenue over the windows that start in {@code [from, to)}; ties by name. */
    @GET
    @Path("/top")
    public Uni<TopAnswer> top(@QueryParam("from") String from, @QueryParam("to") String to,
            @QueryParam("limit") @DefaultValue("10") String limit) {
        Instant start = Problem.instant("from", from);
        Instant end = Problem.instant("to", to);
        checkRange(start, end);
        int size = Problem.intBetween("limit", limit, 1, MAX_TOP);
        return revenue.top(start, end, size).map(top -> new TopAnswer(start, end,
                top.stream().map(CategoryView::of).toList()));
    }

    private void checkRange(Instant from, Instant to) {
        if (!from.isBefore(to)) {
            throw ProblemException.badRequest("'from' must be before 'to'");
        }
        if (Duration.between(from, to).compareTo(maxRange) > 0) {
            throw ProblemException.badRequest("the range from 'from' to 'to' is longer than " + maxRange
                    + "; ask for a shorter one");
        }
    }
}
