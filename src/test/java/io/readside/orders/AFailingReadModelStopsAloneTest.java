package io.readside.orders;

import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.Management;
import io.readside.testing.RealInfrastructure;
import io.readside.testing.TestProducer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Issue 23: a read model whose fold throws, or whose SQL the database refuses, on one order stops alone. The order is
 * applied (not set aside), the orders table and the other read models go on, and the stop is visible in health and
 * metrics; what it missed waits in its backlog. Once fixed, it catches up from its backlog with each change counted
 * exactly once, and takes the next changes live with the others. {@link BreakableReadModel} exists only in the tests.
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class AFailingReadModelStopsAloneTest {

    private static final Duration APPLIED = Duration.ofSeconds(90);
    private static final String CHECK = "readside-read-models";
    /** An event time that moves no partition's stream time (the other tests' windows stay open). */
    private static final long LONG_AGO = 1_700_000_000L;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;
    @Inject
    MeterRegistry registry;

    @AfterEach
    void fixed() {
        BreakableReadModel.failing = BreakableReadModel.Failure.NONE;
    }

    @ParameterizedTest
    @EnumSource(value = BreakableReadModel.Failure.class, names = { "EXCEPTION", "SQL" })
    void aReadModelThatFailsOnOneOrderStopsAloneAndCatchesUpExactlyOnceOnceFixed(BreakableReadModel.Failure failure)
            throws Exception {
        String m = failure.name().toLowerCase();
        long user = failure == BreakableReadModel.Failure.SQL ? 6602 : 6601;
        String broken = BreakableReadModel.BREAKS + m + "-1";
        double stopsBefore = stops();
        BreakableReadModel.failing = failure;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", "sa-" + m + "-1", order("sa-" + m + "-1", user, "10.00"));
            producer.send("orders", broken, order(broken, user, "5.00"));
            producer.send("orders", "sa-" + m + "-2", order("sa-" + m + "-2", user, "7.00"));
            producer.send("orders", broken, order(broken, user, "9.00")); // a correction, while it is stopped
            producer.send("orders", broken, "{\"event_id\":\"cancel-" + m + "\",\"type\":\"order.cancel_requested\","
                    + "\"order_id\":\"" + broken + "\",\"timestamp\":\"" + Instant.ofEpochSecond(LONG_AGO) + "\"}");
        }

        // the orders are applied, none set aside, and the other read models go on
        await().atMost(APPLIED).until(() -> "26.00|3".equals(userTotals(user)));
        assertEquals(0, new BigDecimal("9.00").compareTo(total("orders", broken)));
        // the model alone stopped, loudly, and it keeps failing while it is broken
        await().atMost(APPLIED).until(() -> attempts() >= 1);
        assertNull(total("breakable_totals", broken), "nothing of the order it failed on is in its tables");
        await().atMost(APPLIED).until(() -> registry.get("readside.read.model.stopped").tag("model", "breakable")
                .gauge().value() == 1.0);
        await().atMost(APPLIED).untilAsserted(() -> Management.given().get("/q/health/well").then()
                .body("checks.find { it.name == '" + CHECK + "' }.status", equalTo("DOWN"))
                .body("checks.find { it.name == '" + CHECK + "' }.data.breakable", containsString("stopped since")));
        assertEquals(stopsBefore + 1, stops(), "stopped once: what came next went to its backlog untried");

        BreakableReadModel.failing = BreakableReadModel.Failure.NONE; // the fix, deployed
        await().atMost(APPLIED).until(() -> rows("SELECT 1 FROM read_model_stops WHERE model = 'breakable'") == 0);
        assertEquals(0, rows("SELECT 1 FROM read_model_backlog WHERE model = 'breakable'"));
        assertEquals("9.00|2|1", breakable(broken), "each change it missed, and the cancel, once");
        assertEquals("10.00|1|0", breakable("sa-" + m + "-1"));
        assertEquals("7.00|1|0", breakable("sa-" + m + "-2"));
        await().atMost(APPLIED).until(() -> registry.get("readside.read.model.stopped").tag("model", "breakable")
                .gauge().value() == 0.0);
        await().atMost(APPLIED).untilAsserted(() -> Management.given().get("/q/health/well").then()
                .body("checks.find { it.name == '" + CHECK + "' }.status", equalTo("UP")));

        try (TestProducer producer = new TestProducer(bootstrapServers)) { // joined: written live with the others
            producer.send("orders", broken, order(broken, user, "11.00"));
        }
        await().atMost(APPLIED).until(() -> "11.00|3|1".equals(breakable(broken)));
        await().atMost(APPLIED).until(() -> "28.00|3".equals(userTotals(user)));
    }

    private double stops() {
        var counter = registry.find("readside.read.model.stops").tag("model", "breakable").counter();
        return counter == null ? 0 : counter.count();
    }

    private static String order(String id, long user, String total) {
        return "{\"order_id\":\"" + id + "\",\"user_id\":" + user + ",\"category\":\"stop-alone\",\"total\":" + total
                + ",\"timestamp\":" + LONG_AGO + "}";
    }

    private RowSet<Row> query(String sql, Object... parameters) {
        return pool.preparedQuery(sql).execute(Tuple.from(parameters)).await().atMost(APPLIED);
    }

    private int rows(String sql) {
        return query(sql).size();
    }

    private int attempts() {
        RowSet<Row> rows = query("SELECT attempts FROM read_model_stops WHERE model = 'breakable'");
        return rows.size() == 0 ? 0 : rows.iterator().next().getInteger(0);
    }

    private BigDecimal total(String table, String orderId) {
        RowSet<Row> rows = query("SELECT total FROM " + table + " WHERE order_id = $1", orderId);
        return rows.size() == 0 ? null : rows.iterator().next().getBigDecimal(0);
    }

    private String breakable(String orderId) {
        RowSet<Row> rows = query("SELECT total, changes, cancels FROM breakable_totals WHERE order_id = $1", orderId);
        if (rows.size() == 0) {
            return null;
        }
        Row row = rows.iterator().next();
        return row.getBigDecimal(0).setScale(2) + "|" + row.getInteger(1) + "|" + row.getInteger(2);
    }

    private String userTotals(long user) {
        RowSet<Row> rows = query("SELECT total_spent, order_count FROM user_order_totals WHERE user_id = $1", user);
        if (rows.size() == 0) {
            return null;
        }
        Row row = rows.iterator().next();
        return row.getBigDecimal(0).setScale(2) + "|" + row.getInteger(1);
    }
}
