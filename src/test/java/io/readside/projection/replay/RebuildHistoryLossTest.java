package io.readside.projection.replay;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.GuideEvents;
import io.readside.testing.OwnTopicsInfrastructure;
import io.readside.testing.TestProducer;
import io.restassured.specification.RequestSpecification;

/**
 * A rebuild replays what the topic still holds: once retention has deleted versions the live read model holds, it
 * refuses (saying how many rows would go) unless the request accepts the loss.
 */
@QuarkusTest
@TestProfile(OwnTopicsInfrastructure.class)
class RebuildHistoryLossTest {

    private static final Duration APPLIED = Duration.ofSeconds(60);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void aRebuildThatWouldDropRowsRetentionDeletedIsRefusedUnlessTheLossIsAccepted() throws Exception {
        RecordMetadata third = null;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            for (int user = 5101; user <= 5105; user++) {
                RecordMetadata sent = producer.send("user-events", 0, Integer.toString(user),
                        GuideEvents.signup(user, user, "u" + user + "@example.com", "1764230000"));
                third = user == 5103 ? sent : third;
            }
        }
        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/5105").then().statusCode(200));
        // retention (here: deleteRecords) removes the first two signups from the log
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            admin.deleteRecords(Map.of(new TopicPartition("user-events", 0),
                    RecordsToDelete.beforeOffset(third.offset()))).all().get();
        }

        admin().post("/admin/rebuilds/users").then().statusCode(409).contentType("application/problem+json")
                .body("detail", containsString("2 rows of users"))
                .body("detail", containsString("accept-history-loss=true"));
        given().get("/users/5101").then().statusCode(200); // nothing was touched

        admin().queryParam("accept-history-loss", "true").post("/admin/rebuilds/users").then().statusCode(202)
                .body("rows_before_log_start", equalTo(2));
        await().atMost(APPLIED).untilAsserted(() -> admin().get("/admin/rebuilds/users").then()
                .body("state", equalTo("DONE")));
        given().get("/users/5101").then().statusCode(404); // lost, as the request accepted
        given().get("/users/5103").then().statusCode(200);
        admin().post("/admin/rebuilds/users").then().statusCode(202); // nothing left to lose
    }

    private static RequestSpecification admin() {
        return given();
    }
}
