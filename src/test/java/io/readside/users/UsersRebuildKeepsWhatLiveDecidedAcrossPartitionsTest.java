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
 * After partitions were added, a user's events may be on two partitions: the old one and the one its key hashes to
 * now. Live applied them as they came. A rebuild replays the partitions side by side, in another order, so the last
 * write of a user may come from the other partition: an erased user back, a user who signed up again lost, an email
 * changed back. In the switch, where live and rebuilt have applied the same records, such a user is taken as live
 * has it (and logged), whatever order the replay took.
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class UsersRebuildKeepsWhatLiveDecidedAcrossPartitionsTest {

    private static final Duration WITHIN = Duration.ofSeconds(30);

    @Inject
    UsersProjector users;
    @Inject
    Pool pool;

    @Test
    void aUserWhoseLastWriteCameFromAnotherPartitionInTheReplayIsTakenAsLiveHasItAtTheSwitch() {
        SqlConnection conn = pool.getConnection().await().atMost(WITHIN);
        try {
            conn.query("BEGIN").execute().await().atMost(WITHIN);
            execute(conn, "CREATE SCHEMA erasure_shadow");
            execute(conn, "CREATE TABLE erasure_shadow.users (LIKE public.users INCLUDING ALL)");
            execute(conn, "CREATE TABLE erasure_shadow.users_erased (LIKE public.users_erased INCLUDING ALL)");
            // live: 99101 signed up on partition 0, then erased on partition 1
            execute(conn, "INSERT INTO users_erased VALUES (99101, 1, 7)");
            // the replay applied the erasure first, then the older signup
            execute(conn, "INSERT INTO erasure_shadow.users VALUES (99101, 'old@example.com', now(), now(), 0, 3)");
            // live: 99103 erased on partition 0, then signed up again on partition 1; the replay: the other way round
            execute(conn, "INSERT INTO users VALUES (99103, 'again@example.com', now(), now(), 1, 9)");
            execute(conn, "INSERT INTO erasure_shadow.users_erased VALUES (99103, 0, 3)");
            // live: 99104's email changed on partition 1 after its signup on 0; the replay: the other way round
            execute(conn, "INSERT INTO users VALUES (99104, 'new@example.com', now(), now(), 1, 11)");
            execute(conn, "INSERT INTO erasure_shadow.users VALUES (99104, 'old@example.com', now(), now(), 0, 4)");
            // the same partition in both: offset order decided both alike, the rebuilt row stands
            execute(conn, "INSERT INTO users VALUES (99102, 'live@example.com', now(), now(), 0, 9)");
            execute(conn, "INSERT INTO erasure_shadow.users VALUES (99102, 'rebuilt@example.com', now(), now(), 0, 9)");

            users.carryOver(conn, "public", "erasure_shadow", null).await().atMost(WITHIN);
            assertEquals(3, count(conn, "erasure_shadow.users WHERE user_id BETWEEN 99101 AND 99104"),
                    "before the switch live may still be behind: nothing is judged");

            users.carryOver(conn, "public", "erasure_shadow", Instant.now()).await().atMost(WITHIN);
            assertEquals(0, count(conn, "erasure_shadow.users WHERE user_id = 99101"), "erased live: stays erased");
            assertEquals(1, count(conn, "erasure_shadow.users_erased WHERE user_id = 99101 AND source_partition = 1"
                    + " AND source_offset = 7"), "with its erasure's position, for redrive");
            assertEquals(1, count(conn, "erasure_shadow.users WHERE user_id = 99103 AND email = 'again@example.com'"
                    + " AND source_partition = 1 AND source_offset = 9"), "signed up again live: not lost");
            assertEquals(0, count(conn, "erasure_shadow.users_erased WHERE user_id = 99103"), "and not erased");
            assertEquals(1, count(conn, "erasure_shadow.users WHERE user_id = 99104 AND email = 'new@example.com'"),
                    "the email live has, not the older one");
            assertEquals(1, count(conn, "erasure_shadow.users WHERE user_id = 99102 AND email = 'rebuilt@example.com'"),
                    "same partition: the rebuilt row stands");
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
