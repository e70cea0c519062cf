package io.readside.projection.replay;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.time.Duration;
import java.util.Map;

import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.management.ManagementRoutes;
import io.readside.projection.replay.Rebuilds.State;
import io.readside.testing.GuideEvents;
import io.readside.testing.Management;
import io.readside.testing.RealInfrastructure;
import io.readside.testing.TestProducer;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.pgclient.PgConnection;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgConnectOptions;

/**
 * Any replica answers for the cluster: the status of a rebuild lives in PostgreSQL, so an instance that did not run
 * it (another replica, or the same one after a restart) answers with its progress, on the admin API and on the status
 * page; and a rebuild whose instance died
 * (its session, and with it the one-rebuild lock, gone) reads as abandoned, not as running for ever. "Another
 * replica" here is a PostgreSQL session of its own that takes the rebuild lock and writes its run with the same
 * writer the runner uses; its crash is that session closing.
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class RebuildStatusOnEveryReplicaTest {

    private static final Duration ENDED = Duration.ofSeconds(120);
    private static final long USER = 7_100_001;
    private static final String ROW = "SELECT * FROM rebuild_status WHERE read_model = $1";

    @Inject
    Pool pool;
    @Inject
    Vertx vertx;
    @Inject
    RebuildStatuses statuses;
    @Inject
    Instance<Replayable<?>> readModels;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @ConfigProperty(name = "quarkus.datasource.reactive.url")
    String url;
    @ConfigProperty(name = "quarkus.datasource.username")
    String user;
    @ConfigProperty(name = "quarkus.datasource.password")
    String password;

    /** A rebuild needs its topic's log checked: the topic exists and a user of it is applied. */
    @BeforeEach
    void aUserIsApplied() {
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("user-events", Long.toString(USER), GuideEvents.signup(1, USER, "status@example.com",
                    "1764230000"));
        }
        await().atMost(ENDED).untilAsserted(() -> given().get("/users/" + USER).then().statusCode(200));
    }

    @Test
    void aRebuildRunningOnAnotherReplicaIsAnsweredHereAndReadsAsAbandonedOnceThatReplicaDies() {
        PgConnection otherReplica = PgConnection.connect(vertx, PgConnectOptions.fromUri(url).setUser(user)
                .setPassword(password)).await().atMost(Duration.ofSeconds(30));
        try {
            Row session = otherReplica.preparedQuery("SELECT pg_advisory_lock($1), pg_backend_pid()")
                    .execute(Tuple.of(Rebuilds.LOCK_KEY)).await().atMost(Duration.ofSeconds(30)).iterator().next();
            Run run = new Run(users(), "replica-b (pid 7)", 0, Map.of(0, 0L), changed -> {
            });
            statuses.started(run, session.getInteger(1));
            run.state = State.REPLAYING;
            run.replayed.set(1234);
            run.invalid.set(3);
            run.remaining = 66;
            run.live = Map.of(0, 1300L);
            run.rebuilt.put(0, 1234L);
            statuses.progressed(run);

            given().get("/admin/rebuilds/users").then().statusCode(200)
                    .body("state", equalTo("REPLAYING"))
                    .body("abandoned", equalTo(false))
                    .body("instance", equalTo("replica-b (pid 7)"))
                    .body("replayed_records", equalTo(1234))
                    .body("invalid_records", equalTo(3))
                    .body("remaining_records", equalTo(66))
                    .body("live_offsets.0", equalTo(1300))
                    .body("rebuilt_offsets.0", equalTo(1234))
                    .body("error", nullValue());
            given().post("/admin/rebuilds/users").then().statusCode(409)
                    .body("detail", containsString("running on another instance"));
            Management.given().get(ManagementRoutes.STATUS).then().statusCode(200)
                    .body(containsString("<td class=l>replica-b (pid 7)</td>"));
        } finally {
            otherReplica.close().await().atMost(Duration.ofSeconds(30)); // the replica dies: its session ends
        }

        await().atMost(ENDED).untilAsserted(() -> given().get("/admin/rebuilds/users").then().statusCode(200)
                .body("state", equalTo("FAILED"))
                .body("abandoned", equalTo(true))
                .body("error", containsString("abandoned in state REPLAYING"))
                .body("error", containsString("replica-b (pid 7)"))
                .body("replayed_records", equalTo(1234)));
        Management.given().get(ManagementRoutes.STATUS).then().statusCode(200)
                .body(containsString("FAILED (abandoned)"));
        // nothing holds the lock any more: a new rebuild may start, and replaces the abandoned one
        given().post("/admin/rebuilds/users").then().statusCode(202);
        awaitEnded("users");
        given().get("/admin/rebuilds/users").then().body("state", equalTo("DONE")).body("abandoned", equalTo(false));
    }

    @Test
    void aRebuildRunHereIsRecordedInPostgresqlWithItsProgressAndEnd() {
        given().post("/admin/rebuilds/users").then().statusCode(202);
        awaitEnded("users");
        int replayed = given().get("/admin/rebuilds/users").then().statusCode(200)
                .body("state", equalTo("DONE"))
                .body("instance", equalTo(RebuildRunner.INSTANCE))
                .body("finished_at", notNullValue())
                .body("updated_at", notNullValue())
                .extract().path("replayed_records");

        // what another replica, or this one after a restart, reads: the table, not this instance's memory
        Row row = pool.preparedQuery(ROW).execute(Tuple.of("users")).await().atMost(Duration.ofSeconds(30))
                .iterator().next();
        assertEquals("DONE", row.getString("state"));
        assertEquals(replayed, row.getLong("replayed_records"));
        assertEquals(0L, row.getLong("remaining_records"));
        assertNotNull(row.getOffsetDateTime("finished_at"));
        assertEquals(RebuildRunner.INSTANCE, row.getString("instance"));
    }

    @Test
    void aLateWriteOfARunThatANewerOneReplacedChangesNothing() {
        Run older = new Run(users(), "replica-c (pid 9)", 0, Map.of(0, 0L), changed -> {
        });
        given().post("/admin/rebuilds/users").then().statusCode(202);
        awaitEnded("users");

        older.state = State.REPLAYING;
        older.replayed.set(5);
        statuses.progressed(older); // a replica that lost the lock long ago writes its last progress

        given().get("/admin/rebuilds/users").then().body("state", equalTo("DONE"))
                .body("instance", equalTo(RebuildRunner.INSTANCE));
    }

    private Replayable<?> users() {
        return readModels.stream().filter(model -> model.readModel().equals("users")).findFirst().orElseThrow();
    }

    private static void awaitEnded(String readModel) {
        await().atMost(ENDED).until(() -> {
            String state = given().get("/admin/rebuilds/" + readModel).then().statusCode(200).extract().path("state");
            return "DONE".equals(state) || "FAILED".equals(state);
        });
    }
}
