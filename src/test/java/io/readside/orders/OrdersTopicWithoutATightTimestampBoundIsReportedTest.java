package io.readside.orders;

import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.Management;
import io.readside.testing.RealInfrastructure;
import io.smallrye.health.api.Wellness;

/**
 * The skew check bounds an order's event time by its record's timestamp; only the broker bounds that timestamp
 * when producers set it ({@code CreateTime}). Topic {@code orders} on the real test broker is reconfigured the way
 * operators do (Kafka 4's default of an hour ahead, then {@code LogAppendTime}), and each time the wellness check,
 * the gauge behind alert {@code ReadsideOrdersTimestampsUnbounded} and the reason follow the broker's answer.
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class OrdersTopicWithoutATightTimestampBoundIsReportedTest {

    private static final String CHECK = "readside-orders-timestamps";

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    @Wellness
    OrdersTimestampBound bound;
    @Inject
    MeterRegistry registry;

    @Test
    void anHourAheadIsUnwellAndAlertsUntilTheTopicIsBoundedAgain() throws Exception {
        ConfigResource orders = new ConfigResource(ConfigResource.Type.TOPIC, "orders");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            try {
                admin.createTopics(List.of(new NewTopic("orders", 3, (short) 1))).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
            try {
                // the embedded broker's own bound (a minute, as shipped): well
                checkedUntil("UP", "message.timestamp.after.max.ms=60000");
                assertEquals(0.0, unbounded());

                set(admin, orders, "message.timestamp.after.max.ms", "3600000", AlterConfigOp.OpType.SET);
                checkedUntil("DOWN", "may lead the broker's clock by PT1H");
                assertEquals(1.0, unbounded());

                set(admin, orders, "message.timestamp.type", "LogAppendTime", AlterConfigOp.OpType.SET);
                checkedUntil("UP", "LogAppendTime");
                assertEquals(0.0, unbounded());
            } finally {
                set(admin, orders, "message.timestamp.type", null, AlterConfigOp.OpType.DELETE);
                set(admin, orders, "message.timestamp.after.max.ms", null, AlterConfigOp.OpType.DELETE);
            }
        }
        checkedUntil("UP", "message.timestamp.after.max.ms=60000");
    }

    /**
     * Asks the broker again until the check says {@code status} for {@code reason}: an altered topic configuration
     * reaches the broker's answers a moment after the controller accepted it.
     */
    private void checkedUntil(String status, String reason) {
        await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> {
            bound.check();
            assertCheck(status, reason);
        });
    }

    private static void set(Admin admin, ConfigResource topic, String name, String value, AlterConfigOp.OpType op)
            throws Exception {
        admin.incrementalAlterConfigs(Map.of(topic, List.of(new AlterConfigOp(new ConfigEntry(name, value), op))))
                .all().get();
    }

    private double unbounded() {
        return registry.get("readside.orders.timestamps.unbounded").gauge().value();
    }

    private static void assertCheck(String status, String reason) {
        Management.given().get("/q/health/well").then()
                .body("checks.find { it.name == '" + CHECK + "' }.status", equalTo(status))
                .body("checks.find { it.name == '" + CHECK + "' }.data.orders", containsString(reason));
    }
}
