package io.readside.projection;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.management.ManagementRoutes;
import io.readside.testing.Management;
import io.readside.testing.OwnTopicsInfrastructure;
import io.readside.testing.TestProducer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * A topic deleted and created again starts its offsets anew: Readside must not take its records for redeliveries
 * of the old log and drop them. It fences the topic, says why, and applies the new log once an operator accepts it.
 */
@QuarkusTest
@TestProfile(OwnTopicsInfrastructure.class)
class RecreatedTopicTest {

    private static final Duration APPLIED = Duration.ofSeconds(90);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;

    @Test
    void aRecreatedTopicIsFencedLoudlyAndItsRecordsAreAppliedOnlyOnceTheNewLogIsAccepted() throws Exception {
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            for (int i = 1; i <= 5; i++) {
                producer.send("orders", 0, "rt-" + i, order("rt-" + i));
            }
        }
        await().atMost(APPLIED).untilAsserted(() -> given().get("/orders/rt-5").then().statusCode(200));

        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            try {
                admin.createTopics(List.of(new NewTopic("orders.dlq", 1, (short) 1))).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
            admin.deleteTopics(List.of("orders")).all().get();
            // a redrive into the deleted topic says it does not exist (not "could not be checked" for ever)
            await().atMost(APPLIED).untilAsserted(() -> given().queryParam("partition", 0).queryParam("from", 0)
                    .queryParam("to", 0).post("/admin/dead-letters/orders/redrive").then().statusCode(404)
                    .contentType("application/problem+json").body("detail", containsString("does not exist")));
            await().atMost(APPLIED).ignoreExceptions().until(() -> {
                try {
                    admin.createTopics(List.of(new NewTopic("orders", 3, (short) 1))).all().get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) { // the consumer may auto-create it first
                        throw e;
                    }
                }
                return admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders") != null;
            });
        }
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", 0, "rt-new", order("rt-new")); // offset 0 of the new log, below the position 5
        }

        await().atMost(APPLIED).untilAsserted(() -> Management.given().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'readside-log-identity' }.data.orders",
                        containsString("deleted and created again")));
        Management.given().get(ManagementRoutes.STATUS).then().statusCode(200).body(containsString("is fenced"));
        given().get("/orders/rt-new").then().statusCode(404);
        // nor is anything redriven into it: its positions say nothing of this log
        given().queryParam("partition", 0).queryParam("from", 0).queryParam("to", 0)
                .post("/admin/dead-letters/orders/redrive").then().statusCode(409)
                .contentType("application/problem+json").body("detail", containsString("is fenced"));

        // not while a rebuild runs (on any instance): it compares its shadow with the positions the acceptance forgets
        SqlConnection rebuild = pool.getConnection().await().atMost(APPLIED);
        try {
            rebuild.preparedQuery("SELECT pg_advisory_lock($1)").execute(Tuple.of(AdvisoryLocks.REBUILD)).await()
                    .atMost(APPLIED);
            given().post("/admin/topics/orders/accept-new-log").then()
                    .statusCode(409).body("detail", containsString("a rebuild is running"));
            given().get("/orders/rt-new").then().statusCode(404);
        } finally {
            rebuild.preparedQuery("SELECT pg_advisory_unlock($1)").execute(Tuple.of(AdvisoryLocks.REBUILD)).await()
                    .atMost(APPLIED);
            rebuild.close().await().atMost(APPLIED);
        }
        given().post("/admin/topics/orders/accept-new-log").then()
                .statusCode(200).body("topic", equalTo("orders"));
        await().atMost(APPLIED).untilAsserted(() -> given().get("/orders/rt-new").then().statusCode(200));
        await().atMost(APPLIED).untilAsserted(() -> Management.given().get("/q/health/ready").then()
                .body("checks.find { it.name == 'readside-log-identity' }.status", equalTo("UP")));
        given().get("/orders/rt-1").then().statusCode(200); // the old log's orders stay until a rebuild
    }

    private static String order(String id) {
        return "{\"order_id\":\"" + id + "\",\"user_id\":6101,\"category\":\"books\",\"total\":1,"
                + "\"timestamp\":1764230000}";
    }
}
