package io.readside.revenue.rest;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
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
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;

import io.readside.orders.OrdersProjector;
import io.readside.projection.consistency.ConsistentReads;
import io.readside.revenue.repository.RevenueRepository.CategoryRevenue;
import io.readside.revenue.repository.RevenueRepository.Cursor;
import io.readside.revenue.repository.RevenueRepository.Window;
import io.readside.revenue.repository.RevenueRepository;
import io.readside.security.Roles;
import io.readside.values.Quote;
import io.readside.web.Problem;
import io.readside.web.ProblemException;
import io.smallrye.mutiny.Uni;

@ConsistentReads(value = {OrdersProjector.CHANNEL}, readModels = "revenue")
@Path("/revenue")
@RolesAllowed(Roles.READER)
@Produces(MediaType.APPLICATION_JSON)
public class RevenueResource {

    static final int MAX_TOP = 100;
    static final int DEFAULT_WINDOWS = 500;
    /** A category has at most 100 characters; a window start at most 30: the cursor is shorter than this. */
    private static final int MAX_CURSOR_LENGTH = 200;

    @Inject
    RevenueRepository revenue;

    /** A range query reads at most this much time, so that one request cannot scan everything. */
    @ConfigProperty(name = "readside.revenue.max-query-range")
    Duration maxRange;

    /** A page of /revenue holds at most this many windows, whatever the range. */
    @ConfigProperty(name = "readside.revenue.max-windows-per-page")
    int maxWindows;

    /**
     * One page of windows; {@code next_after} is the cursor of the next page ({@code after=} it), null on the last;
     * {@code next} is the same as a link.
     */
    public record WindowsAnswer(String category, Instant from, Instant to, List<WindowView> windows,
            String nextAfter, String next) {
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

    /**
     * The windows that start in {@code [from, to)}, oldest first (then by category), a page at a time: all
     * categories when none is given. Paged rather than refused: how many windows a range holds depends on the data,
     * which a client cannot know before asking.
     */
    @GET
    public Uni<WindowsAnswer> windows(@QueryParam("category") String category,
            @Parameter(description = "Start of the range (inclusive), ISO-8601", example = "2025-01-01T00:00:00Z")
            @QueryParam("from") String from,
            @Parameter(description = "End of the range (exclusive), ISO-8601", example = "2025-01-02T00:00:00Z")
            @QueryParam("to") String to,
            @Parameter(description = "Windows per page, 1 to readside.revenue.max-windows-per-page (1000); "
                    + "default 500") @QueryParam("limit") String limit,
            @Parameter(description = "The cursor of the next page, as the previous page's next_after gave it: "
                    + "<window_start>/<category>, e.g. 2025-11-27T07:53:00Z/books; absent for the first page")
            @QueryParam("after") String after) {
        String wanted = category == null ? null : Problem.text("category", category, 100);
        Instant start = Problem.instant("from", from);
        Instant end = Problem.instant("to", to);
        checkRange(start, end);
        int size = limit == null ? Math.min(DEFAULT_WINDOWS, maxWindows)
                : Problem.intBetween("limit", limit, 1, maxWindows);
        Cursor cursor = after == null ? Cursor.before(start) : cursor(after);
        // one row more than asked tells whether a next page exists
        return revenue.windows(wanted, start, end, cursor, size + 1).map(rows -> {
            boolean more = rows.size() > size;
            List<WindowView> page = rows.stream().limit(size).map(WindowView::of).toList();
            String nextAfter = more ? page.get(page.size() - 1).windowStart() + "/" + page.get(page.size() - 1)
                    .category() : null;
            String next = more ? "/revenue?" + (wanted == null ? "" : "category=" + encoded(wanted) + "&") + "from="
                    + start + "&to=" + end + "&limit=" + size + "&after=" + encoded(nextAfter) : null;
            return new WindowsAnswer(wanted, start, end, page, nextAfter, next);
        });
    }

    /** {@code <window_start>/<category>}: split at the first '/', which no ISO-8601 time contains. */
    private static Cursor cursor(String after) {
        String text = Problem.text("after", after, MAX_CURSOR_LENGTH);
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw ProblemException.badRequest("'after' must be <window_start>/<category> as a page's next_after "
                    + "gave it, got " + Quote.of(after));
        }
        return new Cursor(Problem.instant("after", text.substring(0, slash)),
                Problem.text("after", text.substring(slash + 1), 100));
    }

    private static String encoded(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** Categories ranked by revenue over the windows that start in {@code [from, to)}; ties by name. */
    @GET
    @Path("/top")
    public Uni<TopAnswer> top(
            @Parameter(description = "Start of the range (inclusive), ISO-8601", example = "2025-01-01T00:00:00Z")
            @QueryParam("from") String from,
            @Parameter(description = "End of the range (exclusive), ISO-8601", example = "2025-01-02T00:00:00Z")
            @QueryParam("to") String to,
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
