package io.readside.delivery;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.readside.dev.EmbeddedKafka;
import io.readside.dev.EmbeddedPostgresql;
import io.readside.orders.OrdersFold;
import io.readside.projection.management.ManagementRoutes;
import io.readside.testing.LocalHost;
import io.readside.testing.ServiceProcess;
import io.readside.testing.TopicReader;

/**
 * Faults injected into the packaged service, a real broker and a real PostgreSQL: SIGKILL under load, a clean
 * restart, a second instance joining and the first leaving, the broker down for 40 s, PostgreSQL down for 30 s,
 * poison records, a full rebuild, the outbox relay halted between publishing and marking, three replicas scaled
 * 1 -> 3 -> 1 with a SIGKILL and two SIGTERMs, an output topic that refuses every record. The oracle is the test's
 * own fold of everything produced ({@link OrdersFold}); every scenario ends with: read model == oracle (nothing
 * lost, nothing counted twice) and the service ready.
 * Figures go to {@code target/fault-injection/figures.txt}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultInjectionIT {

    private static final Path WORK = Path.of("target", "fault-injection");
    private static final int PARTITIONS = 4;
    /** orders of the SIGKILL scenario; -Dreadside.faults.orders=N for a quicker run */
    private static final int ORDERS = Integer.getInteger("readside.faults.orders", 100_000);
    private static final String GROUP = "readside";
    private static final Duration START = Duration.ofSeconds(90);
    private static final Duration DRAIN = Duration.ofMinutes(8);
    private static final String APPLIED = "readside_records_total{channel=\"orders\",outcome=\"applied\"}";
    private static final String DUPLICATE = "readside_records_total{channel=\"orders\",outcome=\"duplicate\"}";
    private static final String REJECTED = "readside_records_total{channel=\"orders\",outcome=\"rejected\"}";
    private static final String PARKED = "readside_outputs_parked_total";
    private static final String PARKED_WAITING = "readside_outputs_parked_waiting";
    private static final String PROCESSED_ORDERS_LABEL = "topic=\"processed-orders\"";
    private static final ObjectMapper JSON = new ObjectMapper();

    private EmbeddedKafka kafka;
    private EmbeddedPostgresql postgres;
    private int kafkaPort;
    private int controllerPort;
    private int postgresPort;
    private final int[] httpPorts = { LocalHost.freePort(), LocalHost.freePort(), LocalHost.freePort() };
    private OrderTraffic traffic;
    private ServiceProcess service;
    private final Map<String, String> figures = new LinkedHashMap<>();
    private final List<ServiceProcess> started = new ArrayList<>();

    @BeforeAll
    void startBrokerDatabaseAndService() throws Exception {
        LocalHost.deleteRecursively(WORK);
        kafkaPort = LocalHost.freePort();
        controllerPort = LocalHost.freePort();
        postgresPort = LocalHost.freePort();
        startBroker();
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("orders", PARTITIONS, (short) 1),
                    new NewTopic("user-events", PARTITIONS, (short) 1),
                    new NewTopic("orders.dlq", 1, (short) 1))).all().get();
        }
        startPostgres();
        traffic = new OrderTraffic(bootstrap(), 20261127, 0.01);
        service = start("service-1", 0);
    }

    @AfterAll
    void stopEverything() throws IOException {
        for (ServiceProcess process : started) { // also those a failed scenario left behind
            if (process.alive()) {
                process.terminate(Duration.ofSeconds(40));
            }
        }
        if (traffic != null) {
            traffic.close();
        }
        if (kafka != null) {
            kafka.close();
        }
        if (postgres != null) {
            postgres.close();
        }
        StringBuilder text = new StringBuilder();
        figures.forEach((key, value) -> text.append(key).append(": ").append(value).append('\n'));
        Files.writeString(WORK.resolve("figures.txt"), text);
        System.out.print(text);
    }

    @Test
    @Order(1)
    void sigkillThreeTimesWhile100000OrdersFlowLosesNothingAndCountsNothingTwice() throws Exception {
        int total = ORDERS;
        long start = System.nanoTime();
        Thread producer = produceInBackground(total);
        for (int kill = 1; kill <= 3; kill++) {
            long threshold = (long) total * kill / 4;
            await("applied " + threshold).atMost(DRAIN).pollInterval(Duration.ofMillis(250))
                    .until(() -> appliedRecords() >= threshold);
            service.kill();
            service = start("service-1-after-kill-" + kill, 0);
        }
        producer.join();
        awaitEverythingApplied();
        long seconds = (System.nanoTime() - start) / 1_000_000_000;

        assertReadModelEqualsOracle();
        assertProcessedOrdersEndAtEachOrdersLatestVersion();
        assertReady(service);
        figures.put("1 sigkill", total + " orders, 3 SIGKILLs, drained in " + seconds + " s; the last process re-read "
                + (long) service.metric(DUPLICATE) + " records already applied (recognised, not counted)");
    }

    @Test
    @Order(2)
    void cleanRestartCommitsItsOffsetsLeavesTheGroupAndAppliesNoRecordTwice() throws Exception {
        Thread producer = produceInBackground(10_000);
        long before = appliedRecords();
        await().atMost(DRAIN).until(() -> appliedRecords() >= before + 3_000);
        Duration stopped = service.terminate(Duration.ofSeconds(40));

        assertTrue(groupMembers().isEmpty(), "the consumers left the group at shutdown, no session timeout");
        Map<TopicPartition, Long> stored = storedPositions("orders");
        assertEquals(stored, committedOffsets("orders"), "Kafka has the offsets PostgreSQL has");
        long appliedByFirst = stored.values().stream().mapToLong(Long::longValue).sum();

        service = start("service-2", 0);
        producer.join();
        awaitEverythingApplied();
        assertReadModelEqualsOracle();
        assertEquals(0, service.metric(DUPLICATE), "nothing read twice after a clean stop");
        assertEquals(traffic.produced() - appliedByFirst, service.metric(APPLIED) + service.metric(REJECTED),
                "the second process handled exactly the records the first had not");
        assertReady(service);
        figures.put("2 clean restart", "SIGTERM to exit " + stopped.toMillis() + " ms; group empty at once; "
                + "committed offsets == stored positions; 0 records read twice");
    }

    @Test
    @Order(3)
    void secondInstanceJoinsAndTheFirstLeavesMidStream() throws Exception {
        AtomicBoolean flowing = new AtomicBoolean(true);
        Thread producer = produceInBackground(flowing, 1_000);
        long before = appliedRecords();
        await().atMost(DRAIN).until(() -> appliedRecords() >= before + 2_000);
        ServiceProcess second = start("instance-b", 1);
        await("instance-b takes partitions and applies").atMost(START).until(() -> second.metric(APPLIED) > 0);
        long joined = appliedRecords();
        await().atMost(DRAIN).until(() -> appliedRecords() >= joined + 3_000);
        double appliedByFirst = service.metric(APPLIED);
        Duration left = service.terminate(Duration.ofSeconds(40));
        service = second;
        double appliedBySecondAtLeave = second.metric(APPLIED);
        await("instance-b carries on alone").atMost(DRAIN)
                .until(() -> second.metric(APPLIED) >= appliedBySecondAtLeave + 3_000);
        flowing.set(false);
        producer.join();
        awaitEverythingApplied();

        assertTrue(appliedByFirst > 0);
        assertReadModelEqualsOracle();
        assertReady(service);
        figures.put("3 join and leave", "orders at 1,000/s; instance b joined and applied alongside a, a left ("
                + left.toMillis() + " ms to exit), b applied " + (long) second.metric(APPLIED) + " in all");
    }

    @Test
    @Order(4)
    void brokerDownFor40SecondsKeepsTheQueriesInServiceAndLosesNothing() throws Exception {
        traffic.produce(8_000);
        long before = appliedRecords();
        await().atMost(DRAIN).until(() -> appliedRecords() >= before + 1_000);
        kafka.close();
        try {
            // longer than the lag monitor's staleness bound (3 intervals + 10 s): the queries need only PostgreSQL,
            // so the instance stays ready and answers; the outage is reported instead
            await("alive, ready and answering queries without a broker").during(Duration.ofSeconds(40))
                    .atMost(Duration.ofSeconds(50)).until(() -> service.alive()
                            && service.managementStatus("/q/health/ready") == 200
                            && service.status("/orders?limit=1") == 200);
            await("the outage is reported").atMost(Duration.ofSeconds(30))
                    .until(() -> service.managementGet("/q/metrics").contains("\nreadside_kafka_reachable 0.0"));
        } finally {
            startBroker(); // whatever happened: the scenarios after this one need a broker
        }
        await("the broker is reachable again").atMost(START)
                .until(() -> service.managementGet("/q/metrics").contains("\nreadside_kafka_reachable 1.0"));
        traffic.produce(4_000);
        awaitEverythingApplied();

        assertReadModelEqualsOracle();
        assertReady(service);
        figures.put("4 broker outage", "40 s; ready and answering queries throughout, readside_kafka_reachable 0 "
                + "during; reconnected without a restart");
    }

    @Test
    @Order(5)
    void postgresqlDownFor30SecondsMeansNotReadyThenCatchesUp() throws Exception {
        traffic.produce(8_000);
        long before = appliedRecords();
        await().atMost(DRAIN).until(() -> appliedRecords() >= before + 1_000);
        postgres.close();
        try {
            await("readiness DOWN").atMost(Duration.ofSeconds(20))
                    .until(() -> service.managementStatus("/q/health/ready") == 503);
            await("not ready and alive throughout the outage").during(Duration.ofSeconds(30))
                    .atMost(Duration.ofSeconds(35))
                    .until(() -> service.alive() && service.managementStatus("/q/health/ready") == 503
                            && service.managementStatus("/q/health/live") == 200);
        } finally {
            startPostgres(); // whatever happened: the scenarios after this one need the database
        }
        await("readiness UP").atMost(START).until(() -> service.managementStatus("/q/health/ready") == 200);
        awaitEverythingApplied();

        assertReadModelEqualsOracle();
        assertReady(service);
        figures.put("5 postgresql outage", "30 s; readiness 503 during, 200 after, liveness 200 throughout");
    }

    @Test
    @Order(6)
    void onePercentPoisonIsExactlyWhatTheDeadLetterTopicHolds() {
        Map<String, String> letters = new TreeMap<>();
        int copies = 0;
        for (ConsumerRecord<String, byte[]> letter : TopicReader.readAllBytes(bootstrap(), "orders.dlq")) {
            assertEquals("orders", header(letter, "dead-letter-topic"));
            assertNotNull(header(letter, "dead-letter-exception-class-name"));
            assertNotNull(header(letter, "dead-letter-cause"));
            assertNotNull(header(letter, "dead-letter-timestamp"));
            String origin = header(letter, "dead-letter-partition") + "@" + header(letter, "dead-letter-offset");
            if (letters.put(origin, header(letter, "dead-letter-reason")) != null) {
                copies++;
            }
        }
        assertTrue(traffic.poison.size() > traffic.produced() / 200 && traffic.poison.size() < traffic.produced() / 50,
                "about 1% of the records were poison");
        assertEquals(traffic.poison, letters, "every poison record, with its reason, and nothing else");
        assertReadModelEqualsOracle();
        figures.put("6 poison", traffic.poison.size() + " poison records of " + traffic.produced() + " ("
                + copies + " dead letters sent twice: their record was redelivered after a SIGKILL)");
    }

    @Test
    @Order(7)
    void fullRebuildLeavesTheTablesIdentical() throws Exception {
        Map<String, String> before = orderTables();
        assertEquals(202, service.postAsAdmin("/admin/rebuilds/orders").statusCode());
        AtomicReference<JsonNode> status = new AtomicReference<>();
        await("rebuild done").atMost(DRAIN).pollInterval(Duration.ofMillis(500)).until(() -> {
            status.set(JSON.readTree(service.getAsAdmin("/admin/rebuilds/orders")));
            return List.of("DONE", "FAILED").contains(status.get().get("state").asText());
        });
        assertEquals("DONE", status.get().get("state").asText(), status.get().toString());

        assertEquals(before, orderTables());
        assertReadModelEqualsOracle();
        assertReady(service);
        figures.put("7 rebuild", status.get().get("replayed_records").asLong() + " records replayed ("
                + status.get().get("invalid_records").asLong() + " invalid), writers held "
                + status.get().get("switch_millis").asLong() + " ms; tables identical");
    }

    @Test
    @Order(8)
    void transactionalProducersCommittedAndAbortedWithASigkillApplyExactlyTheCommittedRecords() throws Exception {
        int aborted = 0;
        for (int round = 1; round <= 4; round++) {
            traffic.produce(1_000);
            aborted += traffic.produceTransactions(60, bootstrap());
            if (round == 2) {
                service.kill();
                service = start("service-after-transactions-kill", 0);
            }
        }
        // markers and aborted records take offsets that are never delivered: the oracle decides, not the offsets
        await("read model == oracle over the committed records").atMost(DRAIN).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(this::assertReadModelEqualsOracle);
        await("no lag: markers and aborted records are not applicable").atMost(START).until(() -> JSON
                .readTree(service.managementGet(ManagementRoutes.LAG)).at("/totals/lag_records").asLong(-1) == 0);
        assertReady(service);
        figures.put("8 transactions", "240 transactions (" + aborted + " orders in aborted ones) mixed into 4,000 "
                + "plain orders, one SIGKILL; exactly the committed records applied; lag 0 at the end");
    }

    @Test
    @Order(9)
    void aRecreatedTopicIsFencedUntilAcceptedAndThenItsNewLogIsApplied() throws Exception {
        try (Admin admin = admin()) {
            admin.deleteTopics(List.of("orders")).all().get();
            await("orders recreated").atMost(START).ignoreExceptions().until(() -> {
                try {
                    admin.createTopics(List.of(new NewTopic("orders", PARTITIONS, (short) 1))).all().get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                        throw e;
                    }
                }
                return admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders")
                        .partitions().size() == PARTITIONS;
            });
        }
        Map<TopicPartition, Long> oldPositions = storedPositions("orders");
        // accepting the new log starts the positions, with their stream times, anew: so does the oracle
        traffic.fold.streamTime.clear();
        traffic.produce(2_000); // offsets from 0 again: below the stored positions
        await("fenced: readiness DOWN with the reason").atMost(START)
                .until(() -> service.managementStatus("/q/health/ready") == 503
                        && service.managementGet("/q/health/ready").contains("deleted and created again"));
        assertEquals(oldPositions, storedPositions("orders"), "nothing of the new log counted as seen");

        long fencedAt = System.nanoTime();
        assertEquals(200, service.postAsAdmin("/admin/topics/orders/accept-new-log").statusCode());
        traffic.produce(2_000);
        awaitEverythingApplied();
        long millis = (System.nanoTime() - fencedAt) / 1_000_000;

        assertReadModelEqualsOracle();
        assertReady(service);
        figures.put("9 recreated topic", "orders deleted and created again under the running service: fenced "
                + "(readiness DOWN with the reason, positions untouched) until accepted; then the new log's 4,000 "
                + "records applied in " + millis + " ms");
    }

    @Test
    @Order(10)
    void threeReplicasScaledOneToThreeToOneWithASigkillAndTwoSigtermsEndEachTopicAtTheTables() throws Exception {
        int perSecond = 800;
        long producedBefore = traffic.produced();
        long start = System.nanoTime();
        AtomicBoolean flowing = new AtomicBoolean(true);
        Thread producer = produceInBackground(flowing, perSecond); // a tenth are corrections, most to a new category
        awaitAppliedMore(2_000);

        // 1 -> 3: two replicas join while orders flow; each of the three gets partitions and applies
        ServiceProcess first = service;
        ServiceProcess second = start("replica-2", 1, Map.of());
        ServiceProcess third = start("replica-3", 2, Map.of());
        second.awaitReady(START);
        third.awaitReady(START);
        awaitEachApplies(List.of(first, second, third));
        awaitAppliedMore(3_000);

        // a crash with three replicas writing the same windows: the first (the relay's, most likely) is killed
        // mid-publication and comes back, as a pod does
        first.kill();
        ServiceProcess restarted = start("replica-1-after-kill", 0);
        awaitEachApplies(List.of(restarted, second, third));
        awaitAppliedMore(3_000);

        // 3 -> 1: two clean leaves at different times
        Duration secondLeft = second.terminate(Duration.ofSeconds(40));
        awaitAppliedMore(3_000);
        Duration thirdLeft = third.terminate(Duration.ofSeconds(40));
        service = restarted;
        double appliedAlone = restarted.metric(APPLIED);
        await("the last replica carries on alone").atMost(DRAIN)
                .until(() -> restarted.metric(APPLIED) >= appliedAlone + 2_000);
        flowing.set(false);
        producer.join();
        awaitEverythingApplied();
        awaitOutboxPublished();
        long seconds = (System.nanoTime() - start) / 1_000_000_000;

        assertReadModelEqualsOracle();
        assertProcessedOrdersEndAtEachOrdersLatestVersion();
        String revenue = assertRevenueTopicEndsAtEachWindowsRow();
        assertReady(service);
        figures.put("10 three replicas", (traffic.produced() - producedBefore) + " orders at " + perSecond
                + "/s with corrections; 1 -> 3 -> 1: SIGKILL of the first (restarted), SIGTERM of the second ("
                + secondLeft.toMillis() + " ms to exit) and of the third (" + thirdLeft.toMillis() + " ms); drained "
                + "and published in " + seconds + " s; tables == fold; processed-orders ends at each order's latest "
                + "version; " + revenue);
    }

    @Test
    @Order(11)
    void processedOrdersRefusingEveryRecordParksThemWhileOrdersFlowAndTheResendDeliversEachOnce() throws Exception {
        awaitOutboxPublished();
        long parkedBefore = Long.parseLong(queryMap("SELECT 'id', coalesce(max(id), 0)::text FROM parked_outputs")
                .get("id"));
        assertEquals("0", queryMap("""
                SELECT 'waiting', count(*)::text FROM parked_outputs WHERE resent_at IS NULL""")
                .get("waiting"), "nothing waits before the scenario");
        double countedBefore = metricSum(service, PARKED, PROCESSED_ORDERS_LABEL);
        recreateTopic("processed-orders", TopicReader.partitions(bootstrap(), "processed-orders"),
                Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "100")); // less than any record batch

        // two rounds: the second comes after the first round's outputs were refused, and is applied all the same
        int changesBefore = traffic.fold.changes;
        List<String> orders = new ArrayList<>(traffic.produce(300));
        awaitEverythingApplied();
        await("the first round's outputs parked").atMost(DRAIN).pollInterval(Duration.ofMillis(500))
                .until(() -> parkedWaiting(parkedBefore) >= orders.size());
        orders.addAll(traffic.produce(300));
        awaitEverythingApplied();
        await("no lag: the input flows while its outputs are refused").atMost(START).until(() -> JSON
                .readTree(service.managementGet(ManagementRoutes.LAG)).at("/totals/lag_records").asLong(-1) == 0);
        assertEquals(traffic.fold.changes - changesBefore, orders.size(), "each order sent is one processed order");

        Map<String, String> expected = new TreeMap<>(); // order id -> how many of its versions were refused
        orders.forEach(id -> expected.merge(id, "1", (a, b) -> String.valueOf(Integer.parseInt(a) + 1)));
        await("every refused record parked").atMost(DRAIN).pollInterval(Duration.ofMillis(500))
                .until(() -> parkedWaiting(parkedBefore) >= orders.size());
        assertEquals(expected, queryMap("""
                SELECT convert_from(message_key, 'UTF8'), count(*)::text FROM parked_outputs
                 WHERE id > %d AND topic = 'processed-orders' AND resent_at IS NULL AND superseded_at IS NULL
                 GROUP BY 1""".formatted(parkedBefore)), "each refused record parked once, and nothing else");
        assertEquals(Map.of("parked", orders.size() + "|" + orders.size()), queryMap("""
                SELECT 'parked', count(*) FILTER (WHERE reason <> '' AND payload IS NOT NULL AND parked_at IS NOT NULL)
                       || '|' || count(*) FROM parked_outputs WHERE id > %d""".formatted(parkedBefore)),
                "each parked with its bytes, its reason and when");
        String reasons = String.join(", ", queryMap("""
                SELECT DISTINCT reason, '' FROM parked_outputs WHERE id > %d""".formatted(parkedBefore)).keySet());
        await("counted: readside_outputs_parked_total and readside_outputs_parked_waiting").atMost(START)
                .untilAsserted(() -> {
                    assertEquals(orders.size(), metricSum(service, PARKED, PROCESSED_ORDERS_LABEL) - countedBefore,
                            PARKED);
                    assertEquals(orders.size(), metricSum(service, PARKED_WAITING), PARKED_WAITING);
                });
        await("readside-outputs DOWN in the wellness group").atMost(START)
                .until(() -> "DOWN".equals(healthCheck(service, "/q/health/well", "readside-outputs")));
        assertEquals(200, service.managementStatus("/q/health/ready"), "still ready: the input flows");
        assertEquals(200, service.managementStatus("/q/health/live"));

        // the topic is fixed; the operator re-sends what waits
        setTopicConfig("processed-orders", TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "1048576");
        HttpResponse<String> resend = service.postAsAdmin("/admin/parked-outputs/resend");
        assertEquals(200, resend.statusCode(), resend.body());
        JsonNode answer = JSON.readTree(resend.body());
        long resent = answer.get("resent").asLong(-1);
        long superseded = answer.get("superseded").asLong(-1);
        // every record of the topic was refused: no order had a later record published since, none is superseded
        assertEquals(orders.size(), resent, resend.body());
        assertEquals(0, superseded, resend.body());
        awaitOutboxPublished();
        await("nothing waits any more").atMost(START).untilAsserted(() -> {
            assertEquals(0, metricSum(service, PARKED_WAITING), PARKED_WAITING);
            assertEquals("UP", healthCheck(service, "/q/health/well", "readside-outputs"));
        });

        Map<String, String> resentPerKey = queryMap("""
                SELECT convert_from(message_key, 'UTF8'), count(*)::text FROM parked_outputs
                 WHERE id > %d AND resent_at IS NOT NULL AND superseded_at IS NULL
                 GROUP BY 1""".formatted(parkedBefore));
        assertEquals(expected, resentPerKey, "every refused record re-sent");
        assertEquals(resent, resentPerKey.values().stream().mapToLong(Long::parseLong).sum(), resend.body());
        assertEquals(String.valueOf(superseded), queryMap("""
                SELECT 'superseded', count(*)::text FROM parked_outputs WHERE id > %d AND superseded_at IS NOT NULL"""
                .formatted(parkedBefore)).get("superseded"), resend.body());
        Map<String, String> onTopic = new TreeMap<>();
        Map<String, JsonNode> last = new HashMap<>();
        for (ConsumerRecord<String, String> record : TopicReader.readAll(bootstrap(), "processed-orders")) {
            onTopic.merge(record.key(), "1", (a, b) -> String.valueOf(Integer.parseInt(a) + 1));
            last.put(record.key(), JSON.readTree(record.value()));
        }
        assertEquals(resentPerKey, onTopic, "each re-sent record on processed-orders exactly once, nothing else");
        for (String id : expected.keySet()) {
            assertIsLatestVersion(id, last.get(id));
        }
        assertReadModelEqualsOracle();
        assertReady(service);
        figures.put("11 refused outputs", "processed-orders refused every record (max.message.bytes 100): "
                + orders.size() + " orders applied in two rounds, lag 0; " + orders.size() + " records parked ("
                + reasons + "), counted, readside-outputs DOWN while ready; after the fix the resend re-sent "
                + resent + " (" + superseded + " superseded), each once on the topic");
    }

    /**
     * Last: the commands it accepts carry the wall clock's event time, so they move their partitions' stream time a
     * year past the traffic's synthetic clock (every later traffic order would be late), and the oracle does not
     * fold them.
     */
    @Test
    @Order(12)
    void relayKilledBetweenPublishAndMarkPublishesEachEventAndTheReadModelCountsEachOrderOnce() throws Exception {
        service.terminate(Duration.ofSeconds(40));
        // commands accepted while no relay runs: the outbox holds them
        ServiceProcess accepting = start("commands-relay-off", 0, Map.of("readside.outbox.enabled", "false"))
                .awaitReady(START);
        long user = 990_001;
        int orders = 200;
        BigDecimal sum = BigDecimal.ZERO;
        Map<String, String> events = new TreeMap<>(); // order id -> event id
        for (int i = 1; i <= orders; i++) {
            BigDecimal total = BigDecimal.valueOf(i, 2).add(BigDecimal.ONE);
            sum = sum.add(total);
            HttpResponse<String> accepted = accepting.post("/orders", """
                    {"user_id":%d,"category":"relay","total":"%s"}""".formatted(user, total.toPlainString()));
            assertEquals(202, accepted.statusCode(), accepted.body());
            events.put(JSON.readTree(accepted.body()).get("order_id").asText(), null);
        }
        accepting.terminate(Duration.ofSeconds(40));
        assertEquals(String.valueOf(orders), queryMap("""
                SELECT 'unpublished', count(*)::text FROM outbox WHERE published_at IS NULL AND topic = 'orders'""")
                .get("unpublished"));

        // the relay publishes them in one batch, then the process halts before marking them published
        ServiceProcess halting = start("relay-halts", 0, Map.of("readside.faults.halt-relay-after", "1"));
        assertEquals(99, halting.awaitExit(START), "halted by the fault injection");
        assertEquals(String.valueOf(orders), queryMap("""
                SELECT 'unpublished', count(*)::text FROM outbox WHERE published_at IS NULL AND topic = 'orders'""")
                .get("unpublished"), "the broker has them, the outbox does not know");

        // the next relay publishes them again; the projector applies each order once
        long start = System.nanoTime();
        service = start("service-after-relay-crash", 0);
        await("outbox published").atMost(DRAIN).until(() -> queryMap("""
                SELECT 'unpublished', count(*)::text FROM outbox WHERE published_at IS NULL""")
                .get("unpublished").equals("0"));
        awaitEverythingApplied();
        long millis = (System.nanoTime() - start) / 1_000_000;

        Map<String, Integer> copies = new TreeMap<>();
        for (ConsumerRecord<String, String> record : TopicReader.readAll(bootstrap(), "orders")) {
            if (record.key() != null && events.containsKey(record.key())) { // poison records may have no key
                String eventId = JSON.readTree(record.value()).get("event_id").asText();
                assertTrue(events.get(record.key()) == null || events.get(record.key()).equals(eventId),
                        "a copy carries the same event id");
                events.put(record.key(), eventId);
                copies.merge(record.key(), 1, Integer::sum);
            }
        }
        assertEquals(events.keySet(), copies.keySet(), "every accepted order was published");
        assertTrue(copies.values().stream().allMatch(n -> n >= 2), "each published again after the halt: " + copies);
        assertEquals(orders + "|" + sum.setScale(2), queryMap("""
                SELECT 'u', count(*) || '|' || sum(total) FROM orders WHERE user_id = 990001""").get("u"));
        assertEquals(orders + "|" + sum.setScale(2), queryMap("""
                SELECT 'u', order_count || '|' || total_spent FROM user_order_totals WHERE user_id = 990001""")
                .get("u"), "each order counted once in the user's totals");
        assertEquals(String.valueOf(orders), queryMap("""
                SELECT 'requested', count(*)::text FROM outbox
                 WHERE topic = 'payment-requests' AND event_type = 'payment.requested' AND message_key = ANY(ARRAY['"""
                + String.join("','", events.keySet()) + "'])").get("requested"), "one payment request per order");
        assertReady(service);
        figures.put("12 relay crash", orders + " commands accepted with the relay off; the relay halted after "
                + "publishing them, before marking; the next process republished and applied them in " + millis
                + " ms (incl. start-up); each order on the topic " + copies.values().stream().distinct().sorted()
                        .toList() + " times, counted once");
    }

    // --- the oracle -----------------------------------------------------------------------------------------------

    private void assertReadModelEqualsOracle() {
        OrdersFold fold = traffic.fold;
        assertSameRows(fold.windowFigures(), queryMap("""
                SELECT category || '|' || to_char(window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                       revenue || '|' || order_count
                  FROM revenue_windows WHERE order_count > 0"""), "revenue windows");
        Map<String, String> users = new TreeMap<>();
        fold.users.forEach((user, sums) -> {
            if (sums[1].signum() != 0) {
                users.put(user.toString(), sums[1].intValue() + "|" + sums[0].setScale(2));
            }
        });
        assertSameRows(users, queryMap("""
                SELECT user_id::text, order_count || '|' || total_spent FROM user_order_totals
                 WHERE order_count <> 0"""), "users' order totals");
        Map<String, long[]> units = new TreeMap<>(); // per SKU: units, orders
        Map<String, BigDecimal> revenue = new TreeMap<>();
        fold.orders.keySet().forEach(id -> {
            Set<String> listed = new HashSet<>();
            List<OrderTraffic.Item> items = traffic.latestItems.get(id); // null: none listed
            for (OrderTraffic.Item item : items == null ? List.<OrderTraffic.Item>of() : items) {
                if (item.sku() != null) {
                    units.computeIfAbsent(item.sku(), sku -> new long[2])[0] += item.qty();
                    units.get(item.sku())[1] += listed.add(item.sku()) ? 1 : 0;
                    revenue.merge(item.sku(), item.price() == null ? BigDecimal.ZERO
                            : item.price().multiply(BigDecimal.valueOf(item.qty())), BigDecimal::add);
                }
            }
        });
        Map<String, String> skus = new TreeMap<>();
        units.forEach((sku, counts) -> skus.put(sku, counts[0] + "|" + revenue.get(sku).setScale(2) + "|" + counts[1]));
        assertSameRows(skus, queryMap("""
                SELECT sku, units || '|' || round(revenue, 2) || '|' || orders FROM sku_totals
                 WHERE units <> 0 OR orders <> 0"""), "skus' totals");
        Map<String, String> orders = new TreeMap<>();
        fold.orders.forEach((id, order) -> orders.put(id, order.userId() + "|" + order.category() + "|"
                + order.total().setScale(2) + "|" + order.createdAt().toEpochMilli()));
        assertSameRows(orders, queryMap("""
                SELECT order_id, user_id || '|' || category || '|' || total || '|'
                       || (extract(epoch FROM created_at) * 1000)::bigint FROM orders"""), "orders");
    }

    /** Equal maps, or a failure that names the rows that differ (the first 20), not two whole tables. */
    private static void assertSameRows(Map<String, String> expected, Map<String, String> actual, String what) {
        List<String> differ = new ArrayList<>();
        Set<String> keys = new TreeSet<>(expected.keySet());
        keys.addAll(actual.keySet());
        keys.forEach(key -> {
            if (!Objects.equals(expected.get(key), actual.get(key))) {
                differ.add(key + ": expected " + expected.get(key) + ", table " + actual.get(key));
            }
        });
        assertTrue(differ.isEmpty(), what + ": " + differ.size() + " of " + expected.size() + " rows differ; the first: "
                + differ.subList(0, Math.min(20, differ.size())));
    }

    /** processed-orders is at least once: each order's last record there is its latest version. */
    private void assertProcessedOrdersEndAtEachOrdersLatestVersion() throws Exception {
        Map<String, JsonNode> last = new HashMap<>();
        for (ConsumerRecord<String, String> record : TopicReader.readAll(bootstrap(), "processed-orders")) {
            last.put(record.key(), JSON.readTree(record.value()));
        }
        for (String id : traffic.fold.orders.keySet()) {
            assertIsLatestVersion(id, last.get(id));
        }
    }

    /** {@code published} (a processed-orders value) is the order's latest version in the fold. */
    private void assertIsLatestVersion(String id, JsonNode published) {
        OrdersFold.Order order = traffic.fold.orders.get(id);
        assertNotNull(order, id + " is an order the test sent");
        assertNotNull(published, id + " was published");
        assertEquals(0, order.total().compareTo(new BigDecimal(published.get("total").asText())), id + " total");
        assertEquals(order.category(), published.get("category").asText(), id + " category");
        assertEquals(order.userId(), published.get("user_id").asLong(), id + " user");
        assertEquals(order.createdAt().toEpochMilli(), Math.round(published.get("timestamp").asDouble() * 1000),
                id + " timestamp");
    }

    /**
     * revenue-by-category is at least once, in commit order per window: the last record of every window (key: the
     * category; the window by its window_start) is the window's row (revenue, order_count and revision). A re-send
     * after a relay's crash may repeat older states, so revisions may go down on the topic; but a revision names one
     * state, and none is above the row's.
     *
     * @return a figure: how many records and windows
     */
    private String assertRevenueTopicEndsAtEachWindowsRow() throws Exception {
        Map<String, String> rows = new TreeMap<>(); // "category|window start millis" -> "revenue|count|revision"
        queryMap("""
                SELECT category || '|' || (extract(epoch FROM window_start) * 1000)::bigint,
                       revenue || '|' || order_count || '|' || revision FROM revenue_windows""")
                .forEach((window, row) -> {
                    String[] parts = row.split("\\|");
                    rows.put(window, state(parts[0], Integer.parseInt(parts[1]), Long.parseLong(parts[2])));
                });
        Map<String, String> last = new TreeMap<>();
        Map<String, Map<Long, String>> revisions = new HashMap<>();
        List<String> problems = new ArrayList<>();
        int records = 0;
        for (ConsumerRecord<String, String> record : TopicReader.readAll(bootstrap(), "revenue-by-category")) {
            records++;
            JsonNode value = JSON.readTree(record.value());
            if (!value.path("category").asText().equals(record.key())) {
                problems.add("key " + record.key() + " for " + value);
            }
            String window = record.key() + "|" + Instant.parse(value.get("window_start").asText()).toEpochMilli();
            long revision = value.path("revision").asLong(-1);
            String state = state(value.get("revenue").asText(), value.get("order_count").asInt(), revision);
            String before = revisions.computeIfAbsent(window, w -> new HashMap<>()).putIfAbsent(revision, state);
            if (before != null && !before.equals(state)) {
                problems.add(window + ": revision " + revision + " names two states, " + before + " and " + state
                        + " (partition " + record.partition() + "@" + record.offset() + ")");
            }
            last.put(window, state);
        }
        rows.forEach((window, row) -> {
            long rowRevision = Long.parseLong(row.substring(row.lastIndexOf('|') + 1));
            if (!row.equals(last.get(window))) {
                problems.add(window + ": row " + row + ", last record " + last.get(window));
            }
            revisions.getOrDefault(window, Map.of()).keySet().stream().filter(r -> r > rowRevision).findFirst()
                    .ifPresent(r -> problems.add(window + ": revision " + r + " on the topic, above the row's"));
        });
        last.keySet().stream().filter(window -> !rows.containsKey(window))
                .forEach(window -> problems.add(window + ": on the topic, no row"));
        assertTrue(problems.isEmpty(), problems.size() + " of " + rows.size() + " windows differ; the first: "
                + problems.subList(0, Math.min(20, problems.size())));
        return records + " revenue-by-category records end at each of the " + rows.size() + " windows' rows";
    }

    private static String state(String revenue, int orderCount, long revision) {
        return new BigDecimal(revenue).stripTrailingZeros().toPlainString() + "|" + orderCount + "|" + revision;
    }

    private Map<String, String> orderTables() {
        Map<String, String> rows = new TreeMap<>();
        rows.putAll(prefixed("o|", queryMap("SELECT order_id, row_to_json(o)::text FROM orders o")));
        rows.putAll(prefixed("w|", queryMap(
                "SELECT category || '|' || window_start, row_to_json(w)::text FROM revenue_windows w")));
        rows.putAll(prefixed("u|", queryMap("SELECT user_id::text, row_to_json(u)::text FROM user_order_totals u")));
        rows.putAll(prefixed("p|", queryMap("""
                SELECT topic || '-' || kafka_partition, next_offset || '|' || stream_time FROM projection_positions""")));
        return rows;
    }

    private static Map<String, String> prefixed(String prefix, Map<String, String> rows) {
        Map<String, String> result = new TreeMap<>();
        rows.forEach((key, value) -> result.put(prefix + key, value));
        return result;
    }

    // --- infrastructure -------------------------------------------------------------------------------------------

    private ServiceProcess start(String name, int instance) {
        return start(name, instance, Map.of()).awaitReady(START);
    }

    /** Started with more properties, not waited for. */
    private ServiceProcess start(String name, int instance, Map<String, String> more) {
        Map<String, String> properties = ServiceProcess.connectedTo(bootstrap(), postgresPort);
        properties.put("quarkus.security.users.embedded.users.admin",
                "3545eaad999fa3d04ee4e6aadca18f0927ca0b72a25e4841711d1d279e4748f3");
        properties.put("readside.lag.interval", "1s");
        // a killed member's partitions move after this (the broker's minimum); the default 45 s only slows the test
        for (String channel : List.of("orders", "user-events", "payments")) {
            properties.put("mp.messaging.incoming." + channel + ".session.timeout.ms", "6000");
            properties.put("mp.messaging.incoming." + channel + ".heartbeat.interval.ms", "1000");
        }
        properties.putAll(more);
        ServiceProcess process = ServiceProcess.start(name, httpPorts[instance], properties, WORK);
        started.add(process);
        return process;
    }

    /** An open-loop flow of {@code perSecond} orders (in sends of a tenth of a second) until {@code flowing} ends. */
    private Thread produceInBackground(AtomicBoolean flowing, int perSecond) {
        Thread producer = new Thread(() -> {
            long next = System.nanoTime();
            while (flowing.get()) {
                traffic.produce(perSecond / 10);
                next += 100_000_000L;
                LockSupport.parkNanos(next - System.nanoTime());
            }
        }, "order-flow");
        producer.start();
        return producer;
    }

    private Thread produceInBackground(int records) {
        Thread producer = new Thread(() -> {
            for (int sent = 0; sent < records; sent += 2_000) {
                traffic.produce(Math.min(2_000, records - sent));
            }
        }, "order-traffic");
        producer.start();
        return producer;
    }

    private void startBroker() {
        kafka = EmbeddedKafka.start(WORK.resolve("kafka"), kafkaPort, controllerPort, PARTITIONS);
    }

    private void startPostgres() {
        postgres = EmbeddedPostgresql.start(WORK.resolve("postgres").resolve("data"), postgresPort, true);
    }

    private String bootstrap() {
        return "localhost:" + kafkaPort;
    }

    private Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()));
    }

    private void awaitEverythingApplied() {
        await("every record applied").atMost(DRAIN).pollInterval(Duration.ofMillis(500))
                .until(() -> storedPositions("orders").equals(endOffsets("orders")));
    }

    /** Waits until the cluster (every replica, by the stored positions) has applied {@code records} more. */
    private void awaitAppliedMore(long records) {
        long before = appliedRecords();
        await("applied " + records + " more").atMost(DRAIN).pollInterval(Duration.ofMillis(250))
                .until(() -> appliedRecords() >= before + records);
    }

    /** Waits until each of {@code replicas} has applied records since now: each holds partitions of orders. */
    private static void awaitEachApplies(List<ServiceProcess> replicas) {
        Map<ServiceProcess, Double> before = new HashMap<>();
        for (ServiceProcess replica : replicas) {
            before.put(replica, replica.metric(APPLIED));
        }
        await("each of " + replicas.stream().map(ServiceProcess::name).toList() + " applies").atMost(DRAIN)
                .pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> replicas.stream()
                        .allMatch(replica -> replica.metric(APPLIED) > before.get(replica)));
    }

    /** Waits until the relay has published every committed output. */
    private void awaitOutboxPublished() {
        await("outbox published").atMost(DRAIN).pollInterval(Duration.ofMillis(500)).until(() -> queryMap("""
                SELECT 'unpublished', count(*)::text FROM outbox WHERE published_at IS NULL""")
                .get("unpublished").equals("0"));
    }

    /** Parked records after {@code afterId} that wait (neither re-sent nor superseded). */
    private long parkedWaiting(long afterId) {
        return Long.parseLong(queryMap("""
                SELECT 'waiting', count(*)::text FROM parked_outputs
                 WHERE id > %d AND resent_at IS NULL AND superseded_at IS NULL""".formatted(afterId)).get("waiting"));
    }

    /**
     * The sum of the samples of {@code name} whose labels contain each of {@code labels}; 0 when there are none. A
     * sample's value is the first token after the series (an exemplar, "# {...} value timestamp", may follow).
     */
    private static double metricSum(ServiceProcess process, String name, String... labels) {
        double sum = 0;
        for (String line : process.managementGet("/q/metrics").split("\n")) {
            if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
                int end = line.startsWith(name + "{") ? line.indexOf("} ") + 1 : name.length();
                String series = line.substring(0, end);
                if (Arrays.stream(labels).allMatch(series::contains)) {
                    sum += Double.parseDouble(line.substring(end).trim().split(" ")[0]);
                }
            }
        }
        return sum;
    }

    /** The status of one check in a health group ({@code /q/health/well}, say), or "absent". */
    private static String healthCheck(ServiceProcess process, String group, String check) throws IOException {
        for (JsonNode each : JSON.readTree(process.managementGet(group)).path("checks")) {
            if (check.equals(each.path("name").asText())) {
                return each.path("status").asText();
            }
        }
        return "absent";
    }

    /** Deletes {@code topic} and creates it again with {@code configs}; returns once the broker has them. */
    private void recreateTopic(String topic, int partitions, Map<String, String> configs) throws Exception {
        try (Admin admin = admin()) {
            admin.deleteTopics(List.of(topic)).all().get();
            await(topic + " created again with " + configs).atMost(START).pollInterval(Duration.ofMillis(500))
                    .ignoreExceptions().until(() -> {
                        try {
                            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1).configs(configs)))
                                    .all().get();
                        } catch (ExecutionException e) {
                            if (!(e.getCause() instanceof TopicExistsException)) {
                                throw e;
                            }
                            // created again meanwhile by a producer's metadata request: the configs go on it
                            for (Map.Entry<String, String> config : configs.entrySet()) {
                                setTopicConfig(admin, topic, config.getKey(), config.getValue());
                            }
                        }
                        return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()
                                .size() == partitions && configs.entrySet().stream().allMatch(
                                        config -> config.getValue().equals(topicConfig(admin, topic, config.getKey())));
                    });
        }
    }

    /** Sets one config of {@code topic}; returns once the broker reports it. */
    private void setTopicConfig(String topic, String name, String value) throws Exception {
        try (Admin admin = admin()) {
            setTopicConfig(admin, topic, name, value);
            await(topic + " " + name + "=" + value).atMost(START).pollInterval(Duration.ofMillis(250))
                    .until(() -> value.equals(topicConfig(admin, topic, name)));
        }
    }

    private static void setTopicConfig(Admin admin, String topic, String name, String value) throws Exception {
        admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic),
                List.of(new AlterConfigOp(new ConfigEntry(name, value), AlterConfigOp.OpType.SET)))).all().get();
    }

    private static String topicConfig(Admin admin, String topic, String name) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try {
            return admin.describeConfigs(List.of(resource)).all().get().get(resource).get(name).value();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private long appliedRecords() {
        return storedPositions("orders").values().stream().mapToLong(Long::longValue).sum();
    }

    private static void assertReady(ServiceProcess process) {
        await(process.name() + " ready").atMost(START)
                .until(() -> process.managementStatus("/q/health/ready") == 200);
        assertEquals(200, process.managementStatus("/q/health/live"));
    }

    private Map<TopicPartition, Long> storedPositions(String topic) {
        Map<TopicPartition, Long> positions = new TreeMap<>(Comparator.comparing(TopicPartition::toString));
        queryMap("SELECT kafka_partition::text, next_offset::text FROM projection_positions WHERE consumer_group = '"
                + GROUP + "' AND topic = '" + topic + "'").forEach((partition, next) -> positions.put(
                        new TopicPartition(topic, Integer.parseInt(partition)), Long.parseLong(next)));
        return positions;
    }

    private Map<TopicPartition, Long> endOffsets(String topic) throws Exception {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        Map<TopicPartition, Long> ends = new TreeMap<>(Comparator.comparing(TopicPartition::toString));
        try (Admin admin = admin()) {
            admin.listOffsets(latest).all().get().forEach((partition, info) -> {
                if (info.offset() > 0) {
                    ends.put(partition, info.offset());
                }
            });
        }
        return ends;
    }

    private Map<TopicPartition, Long> committedOffsets(String topic) throws Exception {
        Map<TopicPartition, Long> committed = new TreeMap<>(Comparator.comparing(TopicPartition::toString));
        try (Admin admin = admin()) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(GROUP)
                    .partitionsToOffsetAndMetadata().get();
            offsets.forEach((partition, offset) -> {
                if (partition.topic().equals(topic) && offset != null) {
                    committed.put(partition, offset.offset());
                }
            });
        }
        return committed;
    }

    private List<String> groupMembers() throws Exception {
        try (Admin admin = admin()) {
            return admin.describeConsumerGroups(List.of(GROUP)).all().get().get(GROUP).members().stream()
                    .map(member -> member.consumerId()).toList();
        }
    }

    private Map<String, String> queryMap(String sql) {
        Map<String, String> rows = new TreeMap<>();
        try (Connection connection = DriverManager.getConnection(
                "jdbc:postgresql://localhost:" + postgresPort + "/postgres", EmbeddedPostgresql.USER,
                EmbeddedPostgresql.USER);
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery(sql)) {
            while (result.next()) {
                rows.put(result.getString(1), result.getString(2));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
        return rows;
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
