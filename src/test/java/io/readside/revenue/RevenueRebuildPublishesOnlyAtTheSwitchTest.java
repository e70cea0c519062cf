package io.readside.revenue;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.RealInfrastructure;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * A rebuild carries the revenue windows over twice: first while the live read model still changes (its rebuilt copy
 * may be behind, and the rebuild may yet fail), then in the switch's transaction with the writers held. What differs
 * from the live rows is published, with the next revision, in the switch only: published earlier, a window's stale
 * or never-committed state would be on the topic under a revision that later names another state.
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class RevenueRebuildPublishesOnlyAtTheSwitchTest {

    private static final Duration WITHIN = Duration.ofSeconds(30);

    @Inject
    RevenueByCategory revenue;
    @Inject
    Pool pool;

    @Test
    void theFirstCarryOverPublishesNothingAndTheSwitchPublishesEachChangedWindowOnce() {
        SqlConnection conn = pool.getConnection().await().atMost(WITHIN);
        try {
            // a snapshot of its own: the outbox rows this transaction adds are the only new ones it sees
            conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ").execute().await().atMost(WITHIN);
            long before = conn.query("SELECT coalesce(max(id), 0) FROM outbox").execute().await().atMost(WITHIN)
                    .iterator().next().getLong(0);
            conn.query("""
                    INSERT INTO revenue_windows (category, window_start, window_end, revenue, order_count, revision)
                    VALUES ('carry-a', '2025-11-27T08:00:00Z', '2025-11-27T08:01:00Z', 10.00, 1, 4)""")
                    .execute().await().atMost(WITHIN);
            conn.query("CREATE SCHEMA carry_shadow").execute().await().atMost(WITHIN);
            conn.query("CREATE TABLE carry_shadow.revenue_windows (LIKE public.revenue_windows INCLUDING ALL)")
                    .execute().await().atMost(WITHIN);
            conn.query("""
                    INSERT INTO carry_shadow.revenue_windows
                           (category, window_start, window_end, revenue, order_count, revision)
                    VALUES ('carry-a', '2025-11-27T08:00:00Z', '2025-11-27T08:01:00Z', 15.00, 2, 1)""")
                    .execute().await().atMost(WITHIN);

            revenue.carryOver(conn, "public", "carry_shadow", null).await().atMost(WITHIN);
            assertEquals(0, added(conn, before), "nothing published before the switch");

            revenue.carryOver(conn, "public", "carry_shadow", Instant.now()).await().atMost(WITHIN);
            assertEquals(1, added(conn, before), "the changed window, once, in the switch");
            assertEquals(5, conn.query("SELECT revision FROM carry_shadow.revenue_windows").execute().await()
                    .atMost(WITHIN).iterator().next().getLong(0), "the live revision + 1");
        } finally {
            conn.query("ROLLBACK").execute().await().atMost(WITHIN);
            conn.close().await().atMost(WITHIN);
        }
    }

    private static long added(SqlConnection conn, long before) {
        return conn.query("SELECT count(*) FROM outbox WHERE id > " + before).execute().await().atMost(WITHIN)
                .iterator().next().getLong(0);
    }
}
