package io.readside.projection.management;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.Management;
import io.readside.testing.RealInfrastructure;
import io.restassured.RestAssured;

/**
 * Health, metrics and the operator pages answer on the management port only; the public port serves the API and
 * its OpenAPI document, and nothing of the management interface.
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class ManagementInterfaceTest {

    private static final List<String> MANAGEMENT_PATHS = List.of("/q/health", "/q/health/live", "/q/health/ready",
            "/q/health/started", "/q/metrics", ManagementRoutes.LAG, ManagementRoutes.STATUS);

    @Test
    void managementPortServesHealthMetricsLagAndStatus() {
        assertNotEquals(RestAssured.port, Management.port(), "two ports");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> Management.given().get("/q/health/ready").then()
                .statusCode(200).body("status", equalTo("UP")));
        Management.given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        Management.given().get("/q/health/started").then().statusCode(200).body("status", equalTo("UP"));
        Management.given().get("/q/metrics").then().statusCode(200)
                .body(containsString("readside_kafka_reachable"));
        // the same JSON as the REST resource gave: snake_case members, ISO-8601 times
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> Management.given().get(ManagementRoutes.LAG).then()
                .statusCode(200).contentType(containsString("application/json"))
                .body("measured_at", notNullValue())
                .body("interval_seconds", equalTo(5))
                .body("$", hasKey("error"))
                .body("partitions", notNullValue())
                .body("totals", hasKey("lag_records"))
                .body("totals", hasKey("lag_seconds")));
        Management.given().get(ManagementRoutes.STATUS).then().statusCode(200)
                .contentType(containsString("text/html")).body(containsString("Consumer lag"))
                .body(containsString("readside-schema-migrations"));
        Management.given().redirects().follow(false).get("/").then().statusCode(303)
                .header("Location", ManagementRoutes.STATUS);
    }

    @Test
    void publicPortAnswers404ForManagementPathsAndStillServesTheApiAndItsOpenApi() {
        for (String path : MANAGEMENT_PATHS) {
            given().get(path).then().statusCode(404);
        }
        given().redirects().follow(false).get("/").then().statusCode(404);
        given().get("/orders?limit=1").then().statusCode(200);
        given().accept("application/json").get("/q/openapi").then().statusCode(200)
                .body("paths", hasKey("/orders"))
                .body("paths", not(hasKey(ManagementRoutes.LAG)))
                .body("paths", not(hasKey(ManagementRoutes.STATUS)))
                .body("paths", not(hasKey("/")));
    }

    @Test
    void managementPortServesNoApi() {
        Management.given().get("/orders?limit=1").then().statusCode(404);
        Management.given().get("/q/openapi").then().statusCode(404);
    }
}
