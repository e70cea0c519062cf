package io.readside.revenue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.readside.orders.OrderChange;
import io.readside.orders.OrdersReadModel;
import io.readside.projection.Batch;
import io.readside.projection.Committed;
import io.readside.projection.Output;
import io.readside.projection.outbox.Outbox;
import io.readside.revenue.RevenueWindows.Delta;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Read model {@code revenue_windows}: revenue and order count per category per tumbling event-time window, folded
 * from the orders changelog ({@link RevenueFold}) with each order's contribution kept in
 * {@code revenue_contributions}. Each window a batch changed goes to {@code revenue-by-category} at its state after
 * the batch, with its revision (through the outbox, in the batch's transaction, after the window row's lock); an
 * order past its window's grace is counted in {@code readside_orders_late_total}, not added. A cancelled order still
 * counts: the windows are the revenue of the orders placed in them (closed windows are final, and whether a cancel is
 * accepted depends on payment results that a replay does not see); the order's status says whether it went ahead.
 */
@ApplicationScoped
public class RevenueByCategory implements OrdersReadModel {

    private static final Logger LOG = Logger.getLogger(RevenueByCategory.class);

    public static final String REVENUE_BY_CATEGORY = "revenue-by-category";

    /** Additive: exact with any number of partitions and instances, because PostgreSQL does the sum. */
    static final String ADD_TO_WINDOWS = """
            INSERT INTO revenue_windows AS w (category, window_start, window_end, revenue, order_count)
            SELECT d.category, d.window_start, d.window_end, d.revenue::numeric, d.order_count
              FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::int[])
                   AS d(category, window_start, window_end, revenue, order_count)
            ON CONFLICT (category, window_start) DO UPDATE
                SET revenue = w.revenue + EXCLUDED.revenue,
                    order_count = w.order_count + EXCLUDED.order_count,
                    revision = w.revision + 1
            RETURNING category, window_start, window_end, revenue, order_count, revision""";

    /**
     * A rebuild's switch: a rebuilt window the rebuild left as it was keeps the revision its consumers have seen; one
     * the rebuild changed goes one above it and is published (with the windows the live table did not have), in the
     * switch's transaction.
     */
    static final String KEEP_REVISIONS = """
            UPDATE %2$s.revenue_windows r SET revision = l.revision
              FROM %1$s.revenue_windows l
             WHERE l.category = r.category AND l.window_start = r.window_start AND r.revision <> l.revision
               AND r.revenue = l.revenue AND r.order_count = l.order_count""";
    static final String CHANGED_BY_THE_REBUILD = """
            UPDATE %2$s.revenue_windows r SET revision = l.revision + 1
              FROM %1$s.revenue_windows l
             WHERE l.category = r.category AND l.window_start = r.window_start
               AND (r.revenue <> l.revenue OR r.order_count <> l.order_count)
            RETURNING r.category, r.window_start, r.window_end, r.revenue, r.order_count, r.revision""";
    static final String NEW_IN_THE_REBUILD = """
            SELECT r.category, r.window_start, r.window_end, r.revenue, r.order_count, r.revision
              FROM %2$s.revenue_windows r
             WHERE NOT EXISTS (SELECT 1 FROM %1$s.revenue_windows l
                                WHERE l.category = r.category AND l.window_start = r.window_start)
             ORDER BY r.category, r.window_start"""; 

    @Inject
    MeterRegistry registry;
    @Inject
    ObjectMapper mapper;
    @ConfigProperty(name = "readside.revenue.topic")
    String revenueTopic;
    /** the orders channel's group: its positions hold the partitions' clocks */
    @ConfigProperty(name = "mp.messaging.incoming.orders.group.id")
    String group;

    @ConfigProperty(name = "readside.revenue.window-size")
    Duration windowSize;
    @ConfigProperty(name = "readside.revenue.grace")
    Duration grace;

    private RevenueWindows windows;

    @PostConstruct
    void init() {
        windows = new RevenueWindows(windowSize, grace);
    }

    /** At zero from the start (see ProjectionMetrics.registerMeters). */
    void registerMeters(@Observes StartupEvent start) {
        registry.counter("readside.orders.late");
    }

    /** The state of a window after a change, as published on revenue-by-category. */
    public record WindowState(String category, Instant windowStart, Instant windowEnd, BigDecimal revenue,
            int orderCount, long revision) {

        static WindowState of(Row row) {
            return new WindowState(row.getString("category"), row.getOffsetDateTime("window_start").toInstant(),
                    row.getOffsetDateTime("window_end").toInstant(), row.getBigDecimal("revenue"),
                    row.getInteger("order_count"), row.getLong("revision"));
        }
    }

    /**
     * A value of revenue-by-category; the revenue is a string so that no consumer reads it as a double. The revision
     * grows by one at every change of the window: a consumer keeps, per window, the value with the highest.
     */
    @RegisterForReflection
    public record RevenueUpdate(String category, Instant windowStart, Instant windowEnd, String revenue,
            int orderCount, long revision) {
    }

    @Override
    public String name() {
        return "revenue";
    }

    @Override
    public List<String> tables() {
        return List.of("revenue_windows", "revenue_contributions");
    }

    @Override
    public Uni<Committed> apply(SqlConnection conn, List<OrderChange> changes, Batch<?> batch) {
        String[] ids = changes.stream().map(OrderChange::orderId).distinct().toArray(String[]::new);
        return RevenueContributions.previous(conn, ids).flatMap(previous -> RevenueContributions
                .clocks(conn, group, batch, changes, previous.countedOn()).flatMap(clocks -> {
                    RevenueFold.Folded folded = RevenueFold.fold(windows, previous.contributions(),
                            previous.countedOn(), clocks, changes);
                    return RevenueContributions.save(conn, folded.counted(), folded.countedOn())
                            .chain(() -> addToWindows(conn, folded.deltas().values()))
                            .map(states -> new Committed(folded.late().isEmpty() ? List.of()
                                    : List.of(() -> countLate(folded.late())), published(states)));
                }));
    }

    /**
     * In the switch only ({@code replayedSince} set, the live writers held), over every window: the first pass runs
     * while the live windows still change and the rebuild may yet fail, so a state published then could be stale, or
     * never take effect, under a revision that later names another state.
     */
    @Override
    public Uni<Void> carryOver(SqlConnection conn, String live, String rebuilt, Instant replayedSince) {
        if (replayedSince == null) {
            return Uni.createFrom().voidItem();
        }
        List<WindowState> changed = new ArrayList<>();
        return conn.query(KEEP_REVISIONS.formatted(live, rebuilt)).execute()
                .chain(() -> conn.query(CHANGED_BY_THE_REBUILD.formatted(live, rebuilt)).execute())
                .invoke(rows -> rows.forEach(row -> changed.add(WindowState.of(row))))
                .chain(() -> conn.query(NEW_IN_THE_REBUILD.formatted(live, rebuilt)).execute())
                .invoke(rows -> rows.forEach(row -> changed.add(WindowState.of(row))))
                .chain(() -> Outbox.addRecords(conn, published(changed), null));
    }

    /** Adds the summed deltas, one row per window, in the fold's order (a fixed lock order between writers). */
    private Uni<List<WindowState>> addToWindows(SqlConnection conn, java.util.Collection<Delta> deltas) {
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
        for (Delta delta : deltas) {
            categories[i] = delta.category();
            starts[i] = utc(delta.windowStart());
            ends[i] = utc(windows.windowEnd(delta.windowStart()));
            revenues[i] = delta.revenue().toPlainString();
            counts[i++] = delta.orderCount();
        }
        return conn.preparedQuery(ADD_TO_WINDOWS).execute(Tuple.of(categories, starts, ends, revenues, counts))
                .map(rows -> {
                    List<WindowState> states = new ArrayList<>(n);
                    rows.forEach(row -> states.add(WindowState.of(row)));
                    return states;
                });
    }

    private void countLate(List<OrderChange> late) {
        registry.counter("readside.orders.late").increment(late.size());
        for (OrderChange change : late) {
            LOG.debugf("order %s at %s came after its window closed: not added to revenue", change.orderId(),
                    change.after().createdAt());
        }
    }

    /** Each window at its state, as a value of revenue-by-category (key: the category). */
    private List<Output> published(List<WindowState> states) {
        List<Output> records = new ArrayList<>(states.size());
        for (WindowState window : states) {
            RevenueUpdate update = new RevenueUpdate(window.category(), window.windowStart(), window.windowEnd(),
                    window.revenue().toPlainString(), window.orderCount(), window.revision());
            try {
                records.add(new Output(revenueTopic, window.category().getBytes(StandardCharsets.UTF_8),
                        mapper.writeValueAsBytes(update), (window.category() + '@' + window.windowStart())
                                .getBytes(StandardCharsets.UTF_8)));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        return records;
    }

    static OffsetDateTime utc(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }
}
