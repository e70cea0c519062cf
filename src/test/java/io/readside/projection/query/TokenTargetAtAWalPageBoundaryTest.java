package io.readside.projection.query;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.junit.jupiter.api.Test;

import io.readside.dev.EmbeddedPostgresql;
import io.readside.testing.LocalHost;
import io.readside.testing.StreamingReplica;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A token's read waits for a replica that has replayed the primary's insert position. When the primary's last record
 * ends exactly at a WAL page boundary, {@code pg_current_wal_insert_lsn()} points past the next page's header while a
 * standby that replayed everything reports the boundary: on an idle primary such a wait never ended (found by a
 * hostile review). The target now takes the header off. Real PostgreSQL 15, a real streaming standby.
 */
class TokenTargetAtAWalPageBoundaryTest {

    private static final String RAW_INSERT_LSN = "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint";

    @Test
    void aStandbyThatReplayedEverythingHasReachedTheTargetAtAPageBoundary() throws Exception {
        Path root = Files.createTempDirectory("readside-test-boundary");
        EmbeddedPostgresql primary = null;
        EmbeddedPostgres standby = null;
        try {
            Path primaryData = root.resolve("primary");
            EmbeddedPostgresql initialised = EmbeddedPostgresql.start(primaryData, 0, true);
            int primaryPort = initialised.port();
            initialised.close();
            StreamingReplica.copy(primaryData, primaryPort, root.resolve("standby"));
            primary = EmbeddedPostgresql.start(primaryData, primaryPort, true);
            int standbyPort = LocalHost.freePort();
            standby = StreamingReplica.start(root.resolve("standby"), standbyPort);
            try (Connection p = connect(primaryPort); Connection s = connect(standbyPort)) {
                exec(p, "CREATE TABLE boundary_t (x int)");
                long base = -1;
                boolean landed = false;
                for (int attempt = 0; attempt < 400 && !landed; attempt++) {
                    long before = lsn(p, RAW_INSERT_LSN);
                    long remaining = 8192 - before % 8192;
                    long estimate = base < 0 ? 200 : base;
                    long n = remaining - estimate;
                    if (n < 0) {
                        n += 8192 - 24; // through the next page
                    }
                    p.setAutoCommit(false);
                    exec(p, "INSERT INTO boundary_t VALUES (" + attempt + ")");
                    exec(p, "SELECT pg_logical_emit_message(true, 'h', repeat('x', " + n + "))");
                    p.commit();
                    p.setAutoCommit(true);
                    long after = lsn(p, RAW_INSERT_LSN);
                    long crossed = after / 8192 - before / 8192;
                    long size = after - before - 24 * crossed;
                    base = size - n; // the fixed part, for the next attempt
                    landed = after % 8192 == 24;
                }
                assertTrue(landed, "could not land the primary's insert position right after a page header");
                long target = lsn(p, ReplicaWaits.PRIMARY_INSERT_LSN);
                assertEquals(0, target % 8192, "the target of a token's wait is the page boundary where the last "
                        + "record ends, not past the next page's header, where no standby's replay ever gets");
                // the primary is idle now: the standby streams and replays everything up to the boundary
                await().atMost(Duration.ofSeconds(60)).until(() -> lsn(s, ReplicaWaits.REPLAY_LSN) >= target);
                assertEquals(one(p, "SELECT count(*) FROM boundary_t"), one(s, "SELECT count(*) FROM boundary_t"),
                        "having reached the target, the standby has every commit of the primary");
            }
        } finally {
            if (standby != null) {
                standby.close();
            }
            if (primary != null) {
                primary.close();
            }
            LocalHost.deleteRecursively(root);
        }
    }

    private static Connection connect(int port) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://localhost:" + port + "/" + EmbeddedPostgresql.DATABASE,
                EmbeddedPostgresql.USER, EmbeddedPostgresql.USER);
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static long lsn(Connection c, String sql) throws SQLException {
        return Long.parseLong(one(c, sql));
    }

    private static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rows = st.executeQuery(sql)) {
            rows.next();
            return rows.getString(1);
        }
    }
}
