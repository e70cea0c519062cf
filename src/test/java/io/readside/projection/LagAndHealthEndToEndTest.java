package io.readside.projection;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.tools.consumer.group.ConsumerGroupCommand;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.orders.OrdersProjector;
import io.readside.projection.management.ManagementRoutes;
import io.readside.testing.LagThreshold;
import io.readside.testing.Management;
import io.readside.testing.PostgresResource;
import io.readside.testing.TestProducer;
import io.readside.users.UsersProjector;
import io.restassured.path.json.JsonPath;
import io.smallrye.reactive.messaging.ChannelRegistry;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;

/**
 * Lag on a real broker: a backlog held by pausing the orders channel shows per partition in /lag and /q/metrics,
 * agrees with Kafka's own kafka-consumer-groups, turns readiness DOWN above the threshold, and drains to 0.
 */
@QuarkusTest
@TestProfile(LagThreshold.class)
class LagAndHealthEndToEndTest {

    private static final String TOPIC = "orders";
    private static final int BACKLOG = 300;
    private static final Duration WITHIN = Duration.ofSeconds(60);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    ChannelRegistry channels;
    @Inject
    KafkaClientService kafkaClients;

    @Test
    void backlogShowsPerPartitionAgreesWithKafkaTurnsReadinessDownAndDrains() throws Exception {
        createTopic(TOPIC, 3);
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            for (int i = 0; i < 30; i++) { // something to apply and commit on every partition
                producer.send(TOPIC, "warm-up-" + i, order("warm-up-" + i, System.currentTimeMillis()));
            }
        }
        await().atMost(WITHIN).untilAsserted(() -> assertEquals(Map.of(0, 0L, 1, 0L, 2, 0L), kafkaToolLagOf(TOPIC),
                "Kafka's view: committed on every partition"));
        await().atMost(WITHIN).untilAsserted(() -> assertEquals(Map.of(0, 0L, 1, 0L, 2, 0L), lagOf(TOPIC),
                "every partition measured, caught up before the test"));
        Management.given().get("/q/health/ready").then().log().ifValidationFails().statusCode(200);

        channels.getPausable(OrdersProjector.CHANNEL).pause();
        long now = System.currentTimeMillis();
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            for (int i = 0; i < BACKLOG; i++) {
                producer.sendAsync(TOPIC, "lag-" + i, order("lag-" + i, now));
            }
        }

        // the same lag per partition from /lag, from /q/metrics, and from Kafka's kafka-consumer-groups
        await().atMost(WITHIN).untilAsserted(() -> {
            Map<Integer, Long> lag = lagOf(TOPIC);
            assertEquals(BACKLOG, lag.values().stream().mapToLong(Long::longValue).sum());
            assertEquals(lag, metricLagOf(TOPIC));
            assertEquals(lag, kafkaToolLagOf(TOPIC));
        });
        assertEquals(3, lagOf(TOPIC).values().stream().filter(l -> l > 0).count(), "the backlog is on every partition");
        System.out.println("/lag at the moment it agreed with kafka-consumer-groups:\n"
                + Management.given().get(ManagementRoutes.LAG).then().extract().asPrettyString() + "\nkafka-consumer-groups: " + kafkaToolLagOf(TOPIC));
        JsonPath lag = Management.given().get(ManagementRoutes.LAG).then().statusCode(200).extract().jsonPath();
        assertTrue(lag.getDouble("totals.lag_seconds") > 0, "the oldest unapplied record has an age");
        assertTrue(lag.getLong("totals.lag_records") >= BACKLOG);

        Management.given().get("/q/health/ready").then().log().ifValidationFails().statusCode(503)
                .body("checks.find { it.name == 'readside-consumer-lag' }.status", equalTo("DOWN"))
                .body("checks.find { it.name == 'readside-consumer-lag' }.data.reason",
                        containsString("above readside.health.max-lag-records=" + LagThreshold.MAX_LAG_RECORDS));
        Management.given().get("/q/health/live").then().statusCode(200);
        Management.given().get(ManagementRoutes.STATUS).then().statusCode(200).contentType(containsString("text/html"))
                .body(containsString("Consumer lag")).body(containsString("readside-consumer-lag"));

        channels.getPausable(OrdersProjector.CHANNEL).resume();

        await().atMost(WITHIN).untilAsserted(() -> {
            JsonPath drained = Management.given().get(ManagementRoutes.LAG).then().extract().jsonPath();
            assertEquals(0L, drained.getLong("totals.lag_records"));
            assertEquals(0.0, drained.getDouble("totals.lag_seconds"));
        });
        await().atMost(WITHIN).untilAsserted(() -> Management.given().get("/q/health/ready").then().log()
                .ifValidationFails().statusCode(200));
        String metrics = Management.given().get("/q/metrics").then().extract().asString();
        assertTrue(metrics.contains("readside_record_latency_seconds_count{channel=\"orders\"}"), metrics);
        assertTrue(metrics.contains("readside_apply_duration_seconds_bucket{channel=\"orders\""));
    }

    @Test
    void anInstanceWithNoPartitionsIsReady() throws Exception {
        createTopic("user-events", 3);
        List<KafkaConsumer<String, byte[]>> members = new ArrayList<>();
        try {
            // three more members of group readside; named to sort before Readside's, so the range assignor hands
            // them the three partitions and Readside's user-events consumer none
            for (int i = 0; i < 3; i++) {
                KafkaConsumer<String, byte[]> member = new KafkaConsumer<>(Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                        ConsumerConfig.GROUP_ID_CONFIG, "readside",
                        ConsumerConfig.CLIENT_ID_CONFIG, "a-idle-test-member-" + i,
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                        // a member whose close below could not leave the group is dropped after this (the minimum)
                        ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000"),
                        new StringDeserializer(), new ByteArrayDeserializer());
                member.subscribe(List.of(UsersProjector.CHANNEL));
                members.add(member);
            }
            await().atMost(WITHIN).until(() -> {
                members.forEach(member -> member.poll(Duration.ofMillis(100)));
                return kafkaClients.getConsumer(UsersProjector.CHANNEL).getAssignments().await().atMost(WITHIN)
                        .isEmpty();
            });

            Management.given().get("/q/health/ready").then().log().ifValidationFails().statusCode(200)
                    .body("status", equalTo("UP"));
        } finally {
            // a member may be in the middle of a rebalance here; a plain close() waits up to 30 s for its requests
            members.forEach(member -> member.close(CloseOptions.timeout(Duration.ofSeconds(2))));
            // the next test starts on a settled group without them (one that could not leave expires in 6 s)
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
                await("the idle members gone, the group settled").atMost(WITHIN).until(() -> {
                    ConsumerGroupDescription group = admin.describeConsumerGroups(List.of("readside")).all().get()
                            .get("readside");
                    return group.groupState() == GroupState.STABLE && group.members().stream()
                            .noneMatch(member -> member.clientId().startsWith("a-idle-test-member-"));
                });
            }
        }
    }

    @Test
    void readinessIsDownWhilePostgresqlIsUnreachableLivenessStaysUpAndNothingIsLost() {
        await().atMost(WITHIN).untilAsserted(() -> Management.given().get("/q/health/ready").then().statusCode(200));

        PostgresResource.startOutage();
        try {
            await().atMost(WITHIN).untilAsserted(() -> Management.given().get("/q/health/ready").then().statusCode(503)
                    .body("checks.find { it.name == 'Reactive PostgreSQL connections health check' }.status",
                            equalTo("DOWN")));
            Management.given().get("/q/health/live").then().log().ifValidationFails().statusCode(200);
            try (TestProducer producer = new TestProducer(bootstrapServers)) {
                for (int i = 0; i < 5; i++) { // records arriving during the outage wait for the database
                    producer.send(TOPIC, "outage-" + i, order("outage-" + i, System.currentTimeMillis()));
                }
            }
        } finally {
            PostgresResource.endOutage();
        }

        await().atMost(WITHIN).untilAsserted(() -> Management.given().get("/q/health/ready").then().log().ifValidationFails()
                .statusCode(200));
        for (int i = 0; i < 5; i++) {
            String id = "outage-" + i;
            await().atMost(WITHIN).untilAsserted(() -> given().get("/orders/{id}", id).then().statusCode(200));
        }
    }

    private static String order(String id, long createdAtMillis) {
        return "{\"order_id\":\"%s\",\"user_id\":7,\"category\":\"lag\",\"total\":1.00,\"timestamp\":%d}"
                .formatted(id, createdAtMillis / 1000);
    }

    private Map<Integer, Long> lagOf(String topic) {
        Map<Integer, Long> lag = new TreeMap<>();
        List<Map<String, Object>> partitions = Management.given().get(ManagementRoutes.LAG).then().statusCode(200).extract().jsonPath()
                .getList("partitions");
        for (Map<String, Object> partition : partitions) {
            if (topic.equals(partition.get("topic"))) {
                lag.put((Integer) partition.get("partition"), ((Number) partition.get("lag_records")).longValue());
            }
        }
        return lag;
    }

    private Map<Integer, Long> metricLagOf(String topic) {
        Map<Integer, Long> lag = new TreeMap<>();
        Matcher line = Pattern.compile("readside_consumer_lag_records\\{group=\"readside\",partition=\"(\\d+)\","
                + "topic=\"" + topic + "\"} ([0-9.E]+)").matcher(Management.given().get("/q/metrics").then().extract().asString());
        while (line.find()) {
            lag.put(Integer.parseInt(line.group(1)), (long) Double.parseDouble(line.group(2)));
        }
        return lag;
    }

    /** The LAG column of {@code kafka-consumer-groups --describe --group readside}. */
    private Map<Integer, Long> kafkaToolLagOf(String topic) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        synchronized (System.class) {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            try {
                ConsumerGroupCommand.main(new String[] { "--bootstrap-server", bootstrapServers, "--describe",
                        "--group", "readside" });
            } finally {
                System.setOut(original);
            }
        }
        Map<Integer, Long> lag = new TreeMap<>();
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            String[] columns = line.trim().split("\\s+");
            if (columns.length >= 6 && columns[0].equals("readside") && columns[1].equals(topic)) {
                // "-": the group has committed no offset for the partition yet
                lag.put(Integer.parseInt(columns[2]), columns[5].equals("-") ? -1 : Long.parseLong(columns[5]));
            }
        }
        return lag;
    }

    private void createTopic(String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
    }
}
