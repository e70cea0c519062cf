package io.readside.projection.outbox;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import jakarta.inject.Inject;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.consistency.ConsistencyToken;
import io.readside.testing.DatabaseUnreachableAtStart;
import io.readside.testing.GatedPostgresResource;
import io.readside.testing.KafkaBrokerResource;
import io.readside.testing.Management;
import io.restassured.http.ContentType;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The relay's LISTEN connection and its transactions, on a real broker and a real PostgreSQL. The service starts
 * with the database unreachable (its reactive connections go through a shut {@link GatedPostgresResource gate}) and
 * polls the outbox only every 10 minutes, so a row published within a minute was published because a NOTIFY woke
 * the relay.
 */
@QuarkusTest
@TestProfile(DatabaseUnreachableAtStart.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OutboxRelayTest {

    private static final Duration WITHIN = Duration.ofSeconds(60);
    /** The relay's LISTEN session, once LISTEN is in place (its last statement). */
    private static final String LISTENING = """
            SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'""";

    @Inject
    OutboxRelay relay;
    @Inject
    Pool pool;

    @Test
    @Order(1)
    void listenRetriedUntilTheDatabaseIsReachableThenANotifyWakesTheRelay() {
        // the relay's first LISTEN connection was refused, and it kept trying (the gate is still shut)
        await("LISTEN retried while the database is unreachable").atMost(WITHIN)
                .until(() -> GatedPostgresResource.gate().refused(OutboxRelay.LISTEN_APPLICATION_NAME) >= 2);

        GatedPostgresResource.gate().open();
        long listener = awaitListening();
        awaitRelayIdle();
        assertPublishedPromptly(740_001);
        assertEquals(List.of(listener), listeners(), "one LISTEN session");
    }

    @Test
    @Order(2)
    void listenConnectionTerminatedByTheDatabaseIsReestablishedAndANotifyWakesTheRelayAgain() {
        GatedPostgresResource.gate().open();
        long before = awaitListening();
        assertEquals(Boolean.TRUE, pool.preparedQuery("SELECT pg_terminate_backend($1)").execute(Tuple.of(before))
                .await().atMost(WITHIN).iterator().next().getBoolean(0));

        await("a new LISTEN session").atMost(WITHIN).until(() -> {
            List<Long> now = listeners();
            return now.size() == 1 && now.get(0) != before;
        });
        awaitRelayIdle();
        assertPublishedPromptly(740_002);
    }

    @Test
    @Order(3)
    void noTransactionOfTheRelayIsOpenWhileItWaitsForTheBroker() {
        GatedPostgresResource.gate().open();
        assertPublishedPromptly(740_003); // the relay's producer knows the topic
        long id;
        KafkaBrokerResource.startOutage();
        try {
            id = post(740_004);
            await("the relay waits for the broker, holding the lock with no transaction open").atMost(WITHIN)
                    .untilAsserted(() -> {
                        long waitingFor = relay.batchAwaitingBroker();
                        List<Row> sessions = relaySessions();
                        assertTrue(waitingFor != 0 && waitingFor <= id && relay.batchAwaitingBroker() == waitingFor,
                                "waiting for the broker during the snapshot: " + waitingFor);
                        assertEquals(1, sessions.size(), "one relay session");
                        Row session = sessions.get(0);
                        assertEquals("idle", session.getString("state"), "no transaction, no statement running");
                        assertTrue(session.getBoolean("no_transaction"), "no transaction started");
                        assertTrue(session.getBoolean("holds_lock"), "one relay at a time: the session holds it");
                    });
            assertEquals(0, count("""
                    SELECT count(*) FROM pg_stat_activity
                     WHERE state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()
                       AND (application_name = $1 OR query LIKE '%FROM outbox%')""",
                    OutboxRelay.RELAY_APPLICATION_NAME), "no session is in a transaction over the outbox");
            assertEquals(0, count("SELECT count(*) FROM outbox WHERE id = $1 AND published_at IS NOT NULL", id));
            // held past readside.outbox.max-unpublished-age (5 s in this profile): readside-outputs says so (readiness
            // does not: the queries work)
            await("readside-outputs DOWN: the oldest unpublished output is older than the bound")
                    .atMost(Duration.ofMinutes(3)).untilAsserted(() -> Management.given().get("/q/health/well")
                            .then().statusCode(503).body("checks.find { it.name == 'readside-outputs' }.data.outbox",
                                    containsString("oldest unpublished output")));
        } finally {
            KafkaBrokerResource.endOutage();
        }
        await("published once the broker is back").atMost(Duration.ofMinutes(2)).until(() -> published(id));
        await("readside-outputs UP again").atMost(WITHIN)
                .untilAsserted(() -> Management.given().get("/q/health/well").then().statusCode(200));
        await("the lock is released between batches").atMost(WITHIN).until(() -> relaySessions().stream()
                .noneMatch(session -> session.getBoolean("holds_lock")));
    }

    @Test
    @Order(4)
    void aRelayWhoseSessionIsTerminatedWhileTheBrokerIsDownComesBackAndPublishes() {
        GatedPostgresResource.gate().open();
        assertPublishedPromptly(740_005);
        long id;
        KafkaBrokerResource.startOutage();
        try {
            id = post(740_006);
            await("the relay waits for the broker").atMost(WITHIN).until(() -> relay.batchAwaitingBroker() != 0);
            // the relay's session ends (a failover, pg_terminate_backend, a cut connection) while its sends fail
            assertEquals(1, count("""
                    SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                           WHERE application_name = $1) t""", OutboxRelay.RELAY_APPLICATION_NAME));
            await("the relay notices, after a failed send").atMost(Duration.ofMinutes(2))
                    .until(() -> relay.batchAwaitingBroker() == 0);
        } finally {
            KafkaBrokerResource.endOutage();
        }
        await("published once the broker is back: the relay carried on").atMost(Duration.ofMinutes(2))
                .until(() -> published(id));
        assertPublishedPromptly(740_007);
    }

    /** Places an order once nothing is left to publish, and expects it published long before the 10-minute poll. */
    private void assertPublishedPromptly(long userId) {
        await("nothing left to publish").atMost(WITHIN)
                .until(() -> count("SELECT count(*) FROM outbox WHERE published_at IS NULL AND id > $1", 0) == 0);
        long id = post(userId);
        await("published on NOTIFY").atMost(WITHIN).until(() -> published(id));
    }

    private long awaitListening() {
        await("LISTEN in place").atMost(WITHIN).until(() -> listeners().size() == 1);
        return listeners().get(0);
    }

    /** The relay completed a batch (its last statement released the lock) and waits for a wake-up. */
    private void awaitRelayIdle() {
        await("the relay idle").atMost(WITHIN).until(() -> relaySessions().stream().anyMatch(session -> "idle"
                .equals(session.getString("state")) && session.getString("query").equals(OutboxRelay.NEXT_RELAY)));
    }

    private List<Long> listeners() {
        return rows(LISTENING, OutboxRelay.LISTEN_APPLICATION_NAME).stream().map(row -> row.getLong("pid")).toList();
    }

    private List<Row> relaySessions() {
        return rows("""
                SELECT a.state, a.query, a.xact_start IS NULL AS no_transaction,
                       EXISTS (SELECT 1 FROM pg_locks l
                                WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted) AS holds_lock
                  FROM pg_stat_activity a WHERE a.application_name = $1""", OutboxRelay.RELAY_APPLICATION_NAME);
    }

    private boolean published(long id) {
        return count("SELECT count(*) FROM outbox WHERE id = $1 AND published_at IS NOT NULL", id) == 1;
    }

    private static long post(long userId) {
        String token = given().contentType(ContentType.JSON)
                .body("{\"user_id\":" + userId + ",\"category\":\"relay\",\"total\":\"4.00\"}").post("/orders")
                .then().statusCode(202).extract().header(ConsistencyToken.HEADER);
        return Long.parseLong(token.substring("outbox:".length()));
    }

    private List<Row> rows(String sql, Object parameter) {
        List<Row> rows = new ArrayList<>();
        pool.preparedQuery(sql).execute(Tuple.of(parameter)).await().atMost(WITHIN).forEach(rows::add);
        return rows;
    }

    private long count(String sql, Object parameter) {
        return rows(sql, parameter).get(0).getLong(0);
    }
}
