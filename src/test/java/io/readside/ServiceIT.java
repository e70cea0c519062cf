package io.readside;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusIntegrationTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.management.ManagementRoutes;
import io.readside.security.Roles;
import io.readside.testing.GuideEvents;
import io.readside.testing.KafkaBrokerResource;
import io.readside.testing.Management;
import io.readside.testing.PackagedService;
import io.readside.testing.TestProducer;
import io.readside.testing.Tokens;

/** The packaged application (the jar; the native executable with -Pnative) on a real broker and PostgreSQL. */
@QuarkusIntegrationTest
@TestProfile(PackagedService.class)
class ServiceIT {

    private static final String READER = Tokens.bearer(Tokens.user(4242, Roles.READER));

    @Test
    void productionJarHasNoDevTokenEndpoint() {
        given().get("/dev/token?sub=1&roles=readside-admin").then().statusCode(404);
    }

    @Test
    void packagedServiceProjectsAnEventAndAnswersOverHttp() {
        try (TestProducer producer = new TestProducer(System.getProperty(KafkaBrokerResource.BOOTSTRAP_PROPERTY))) {
            producer.send("user-events", "4242", GuideEvents.signup(42, 4242, "packaged@example.com", "1764230000.5"));
            producer.send("orders", "it-1", "{\"order_id\":\"it-1\",\"user_id\":4242,\"category\":\"books\","
                    + "\"total\":\"19.99\",\"timestamp\":1764230001}");
        }
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> given().header("Authorization", READER)
                .get("/users/4242").then()
                .statusCode(200)
                .body("email", equalTo("packaged@example.com"))
                .body("order_count", equalTo(1))
                .body("total_spent", equalTo(19.99f)));
        given().header("Authorization", READER).get("/orders/it-1").then().statusCode(200)
                .body("status", equalTo("PENDING"));
        given().get("/orders/it-1").then().statusCode(401).header("WWW-Authenticate", startsWith("Bearer"));
        // health, metrics and the status page on the management port only
        given().get("/q/health/ready").then().statusCode(404);
        given().get(ManagementRoutes.STATUS).then().statusCode(404);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> Management.given().get("/q/health/ready").then()
                .statusCode(200));
        Management.given().get("/q/health/started").then().statusCode(200);
        Management.given().get(ManagementRoutes.STATUS).then().statusCode(200).body(containsString("Consumer lag"));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> Management.given().get("/q/metrics").then()
                .statusCode(200).body(containsString("readside_consumer_lag_records{group=\"readside\",partition=\"0\",topic=\"orders\"} 0.0")));
    }
}
