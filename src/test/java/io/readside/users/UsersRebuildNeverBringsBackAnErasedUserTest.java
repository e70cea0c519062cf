package io.readside.users;

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
 * After partitions were added, a user's signup may be on its old partition and its erasure on the new one. Live
 * applied them as they came, and the user is erased. A rebuild replays the partitions side by side, so it may apply
 * the erasure first and the old signup after it: in the switch, where live and rebuilt have applied the same records,
 * such a user stays erased (and is logged), whatever order the replay took.
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class UsersRebuildNeverBringsBackAnErasedUserTest {

    private static final Duration WITHIN = Duration.ofSeconds(30);

    @Inject
    UsersProjector users;
    @Inject
    Pool pool;

    @Test
    void aUserErasedLiveAndWrittenAgainByTheReplayFromAnotherPartitionStaysErasedAtTheSwitch() {
        SqlConnection conn = pool.getConnection().await().atMost(WITHIN);
        try {
            conn.query("BEGIN").execute().await().atMost(WITHIN);
            // live: 99101 signed up on partition 0, erased on partition 1; 99102 erased, then signed up again
            execute(conn, """
                    INSERT INTO users_erased (user_id, source_partition, source_offset) VALUES (99101, 1, 7)""");
            execute(conn, """
                    INSERT INTO users (user_id, email, signed_up_at, updated_at, source_partition, source_offset)
                    VALUES (99102, 'again@example.com', now(), now(), 0, 9)""");
            execute(conn, "CREATE SCHEMA erasure_shadow");
            execute(conn, "CREATE TABLE erasure_shadow.users (LIKE public.users INCLUDING ALL)");
            execute(conn, "CREATE TABLE erasure_shadow.users_erased (LIKE public.users_erased INCLUDING ALL)");
            // the replay applied 99101's erasure first, then its older signup from partition 0
            execute(conn, """
                    INSERT INTO erasure_shadow.users
                           (user_id, email, signed_up_at, updated_at, source_partition, source_offset)
                    VALUES (99101, 'old@example.com', now(), now(), 0, 3),
                           (99102, 'again@example.com', now(), now(), 0, 9)""");

            users.carryOver(conn, "public", "erasure_shadow", null).await().atMost(WITHIN);
            assertEquals(2, count(conn, "erasure_shadow.users WHERE user_id IN (99101, 99102)"),
                    "before the switch live may still be behind: nothing is judged");

            users.carryOver(conn, "public", "erasure_shadow", Instant.now()).await().atMost(WITHIN);
            assertEquals(0, count(conn, "erasure_shadow.users WHERE user_id = 99101"), "erased live: stays erased");
            assertEquals(1, count(conn, "erasure_shadow.users_erased WHERE user_id = 99101 AND source_partition = 1"
                    + " AND source_offset = 7"), "with its erasure's position, for redrive");
            assertEquals(1, count(conn, "erasure_shadow.users WHERE user_id = 99102"), "signed up again live: kept");
        } finally {
            conn.query("ROLLBACK").execute().await().atMost(WITHIN);
            conn.close().await().atMost(WITHIN);
        }
    }

    private static void execute(SqlConnection conn, String statement) {
        conn.query(statement).execute().await().atMost(WITHIN);
    }

    private static long count(SqlConnection conn, String from) {
        return conn.query("SELECT count(*) FROM " + from).execute().await().atMost(WITHIN).iterator().next()
                .getLong(0);
    }
}
