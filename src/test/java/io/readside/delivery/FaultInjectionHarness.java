package io.readside.delivery;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigDecimal;
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
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Order;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.readside.dev.EmbeddedKafka;
import io.readside.dev.EmbeddedPostgresql;
import io.readside.orders.OrdersFold;
import io.readside.testing.LocalHost;
import io.readside.testing.OutboxMessages;
import io.readside.testing.ServiceProcess;
import io.readside.testing.TopicReader;

/**
 * What the fault-injection suites share: a real broker (4 partitions) and a real PostgreSQL in the test JVM, the
 * packaged service as processes of its own ({@link ServiceProcess}), the traffic with 1% poison ({@link OrderTraffic})
 * and the oracle, the test's own fold of everything produced ({@link OrdersFold}). Each suite has its own broker,
 * database, ports and working directory ({@code target/fault-injection/<suite>}), so that failsafe runs the suites
 * side by side (three forks); each writes its figures to {@code figures.txt} there.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class FaultInjectionHarness {

    final Path work = Path.of("target", "fault-injection", getClass().getSimpleName());
    static final int PARTITIONS = 4;
    /** orders of the SIGKILL scenario; -Dreadside.faults.orders=N for a quicker run */
    static final int ORDERS = Integer.getInteger("readside.faults.orders", 100_000);
    static final String GROUP = "readside";
    static final Duration START = Duration.ofSeconds(90);
    static final Duration DRAIN = Duration.ofMinutes(8);
    /**
     * The suites' processes run with the client compiler only: each lives seconds to a few minutes and the suites
     * share the cores; with C1 alone the processes of the (then two) suites used 198 CPU-s against 344 with the JVM's
     * defaults (one passing run each, docs/testing.md). The promises under test are the same under either compiler; the
     * benchmark and {@code ServiceIT} run the jar with the JVM's defaults.
     */
    static final List<String> SHORT_LIVED = List.of("-XX:TieredStopAtLevel=1");
    static final String APPLIED = "readside_records_total{channel=\"orders\",outcome=\"applied\"}";
    static final String DUPLICATE = "readside_records_total{channel=\"orders\",outcome=\"duplicate\"}";
    static final String REJECTED = "readside_records_total{channel=\"orders\",outcome=\"rejected\"}";
    static final String PARKED = "readside_outputs_parked_total";
    static final String PARKED_WAITING = "readside_outputs_parked_waiting";
    static final String PROCESSED_ORDERS_LABEL = "topic=\"processed-orders\"";
    static final ObjectMapper JSON = new ObjectMapper();

    EmbeddedKafka kafka;
    EmbeddedPostgresql postgres;
    int kafkaPort;
    int controllerPort;
    int postgresPort;
    final int[] httpPorts = { LocalHost.freePort(), LocalHost.freePort(), LocalHost.freePort() };
    OrderTraffic traffic;
    ServiceProcess service;
    final Map<String, String> figures = new LinkedHashMap<>();
    final List<ServiceProcess> started = new ArrayList<>();

    @BeforeAll
    final void startBrokerDatabaseAndService() throws Exception {
        LocalHost.deleteRecursively(work);
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
    final void stopEverything() throws IOException {
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
        Files.writeString(work.resolve("figures.txt"), text);
        System.out.print(text);
    }

    // --- the oracle -----------------------------------------------------------------------------------------------

    /**
     * orders.dlq holds exactly the poison records produced (by origin partition and offset, with their reasons), each
     * with its headers; returns how many were sent twice (their record redelivered after a SIGKILL).
     */
    int assertDeadLettersAreExactlyThePoison() {
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
        return copies;
    }

    void assertReadModelEqualsOracle() {
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
    static void assertSameRows(Map<String, String> expected, Map<String, String> actual, String what) {
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

    /**
     * processed-orders is at least once: each order's last record there is its latest version. Once the outbox is
     * published (applied is committed with its outputs, the relay publishes them after).
     */
    void assertProcessedOrdersEndAtEachOrdersLatestVersion() throws Exception {
        awaitOutboxPublished();
        Map<String, JsonNode> last = new HashMap<>();
        for (ConsumerRecord<String, String> record : TopicReader.readAll(bootstrap(), "processed-orders")) {
            last.put(record.key(), JSON.readTree(record.value()));
        }
        for (String id : traffic.fold.orders.keySet()) {
            assertIsLatestVersion(id, last.get(id));
        }
    }

    /** {@code published} (a processed-orders value) is the order's latest version in the fold. */
    void assertIsLatestVersion(String id, JsonNode published) {
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
     * state, and none is above the row's. Once the outbox is published.
     *
     * @return a figure: how many records and windows
     */
    String assertRevenueTopicEndsAtEachWindowsRow() throws Exception {
        awaitOutboxPublished();
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

    static String state(String revenue, int orderCount, long revision) {
        return new BigDecimal(revenue).stripTrailingZeros().toPlainString() + "|" + orderCount + "|" + revision;
    }

    Map<String, String> orderTables() {
        Map<String, String> rows = new TreeMap<>();
        rows.putAll(prefixed("o|", queryMap("SELECT order_id, row_to_json(o)::text FROM orders o")));
        rows.putAll(prefixed("w|", queryMap(
                "SELECT category || '|' || window_start, row_to_json(w)::text FROM revenue_windows w")));
        rows.putAll(prefixed("u|", queryMap("SELECT user_id::text, row_to_json(u)::text FROM user_order_totals u")));
        rows.putAll(prefixed("p|", queryMap("""
                SELECT topic || '-' || kafka_partition, next_offset || '|' || stream_time FROM projection_positions""")));
        return rows;
    }

    static Map<String, String> prefixed(String prefix, Map<String, String> rows) {
        Map<String, String> result = new TreeMap<>();
        rows.forEach((key, value) -> result.put(prefix + key, value));
        return result;
    }

    // --- infrastructure -------------------------------------------------------------------------------------------

    ServiceProcess start(String name, int instance) {
        return start(name, instance, Map.of()).awaitReady(START);
    }

    /** Started with more properties, not waited for. */
    ServiceProcess start(String name, int instance, Map<String, String> more) {
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
        ServiceProcess process = ServiceProcess.start(name, httpPorts[instance], properties, work, SHORT_LIVED);
        started.add(process);
        return process;
    }

    /** An open-loop flow of {@code perSecond} orders (in sends of a tenth of a second) until {@code flowing} ends. */
    Thread produceInBackground(AtomicBoolean flowing, int perSecond) {
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

    Thread produceInBackground(int records) {
        Thread producer = new Thread(() -> {
            for (int sent = 0; sent < records; sent += 2_000) {
                traffic.produce(Math.min(2_000, records - sent));
            }
        }, "order-traffic");
        producer.start();
        return producer;
    }

    void startBroker() {
        kafka = EmbeddedKafka.start(work.resolve("kafka"), kafkaPort, controllerPort, PARTITIONS);
    }

    void startPostgres() {
        postgres = EmbeddedPostgresql.start(work.resolve("postgres").resolve("data"), postgresPort, true);
    }

    String bootstrap() {
        return "localhost:" + kafkaPort;
    }

    Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()));
    }

    /**
     * Asks {@code condition} again and again for {@code span}, each answer taking as long as it takes: every answer
     * must be true. (Awaitility's {@code during} with an {@code atMost} just above it fails when the answers are slow,
     * and with a generous one lets a false answer through if the condition holds for a whole span later.)
     */
    static void holdsThroughout(String what, Duration span, java.util.concurrent.Callable<Boolean> condition) {
        long start = System.nanoTime();
        java.util.concurrent.atomic.AtomicInteger answers = new java.util.concurrent.atomic.AtomicInteger();
        AtomicBoolean held = new AtomicBoolean(true);
        await(what).atMost(span.plus(START)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(100)).until(() -> {
            answers.incrementAndGet();
            if (!condition.call()) {
                held.set(false);
                return true; // the first false answer ends the wait, and fails below
            }
            return System.nanoTime() - start >= span.toNanos();
        });
        assertTrue(held.get(), what + ": false at answer " + answers.get());
    }

    void awaitEverythingApplied() {
        await("every record applied").atMost(DRAIN).pollInterval(Duration.ofMillis(500))
                .until(() -> storedPositions("orders").equals(endOffsets("orders")));
    }

    /** Waits until the cluster (every replica, by the stored positions) has applied {@code records} more. */
    void awaitAppliedMore(long records) {
        long before = appliedRecords();
        await("applied " + records + " more").atMost(DRAIN).pollInterval(Duration.ofMillis(250))
                .until(() -> appliedRecords() >= before + records);
    }

    /** Waits until {@code last}, the only instance left, has applied {@code records} more by its own count. */
    static void awaitCarriesOnAlone(ServiceProcess last, String name, long records) {
        double before = last.metric(APPLIED);
        await(name + " carries on alone").atMost(DRAIN).until(() -> last.metric(APPLIED) >= before + records);
    }

    /** Waits until each of {@code replicas} has applied records since now: each holds partitions of orders. */
    static void awaitEachApplies(List<ServiceProcess> replicas) {
        Map<ServiceProcess, Double> before = new HashMap<>();
        for (ServiceProcess replica : replicas) {
            before.put(replica, replica.metric(APPLIED));
        }
        await("each of " + replicas.stream().map(ServiceProcess::name).toList() + " applies").atMost(DRAIN)
                .pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> replicas.stream()
                        .allMatch(replica -> replica.metric(APPLIED) > before.get(replica)));
    }

    /** Waits until the relay has published every committed output. */
    void awaitOutboxPublished() {
        await("outbox published").atMost(DRAIN).pollInterval(Duration.ofMillis(500)).until(() -> queryMap("""
                SELECT 'unpublished', count(*)::text FROM outbox WHERE published_at IS NULL""")
                .get("unpublished").equals("0"));
    }

    /** Parked records after {@code afterId} that wait (neither re-sent nor superseded). */
    long parkedWaiting(long afterId) {
        return Long.parseLong(queryMap("""
                SELECT 'waiting', count(*)::text FROM parked_outputs
                 WHERE id > %d AND resent_at IS NULL AND superseded_at IS NULL""".formatted(afterId)).get("waiting"));
    }

    /**
     * The sum of the samples of {@code name} whose labels contain each of {@code labels}; 0 when there are none. A
     * sample's value is the first token after the series (an exemplar, "# {...} value timestamp", may follow).
     */
    static double metricSum(ServiceProcess process, String name, String... labels) {
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
    static String healthCheck(ServiceProcess process, String group, String check) throws IOException {
        for (JsonNode each : JSON.readTree(process.managementGet(group)).path("checks")) {
            if (check.equals(each.path("name").asText())) {
                return each.path("status").asText();
            }
        }
        return "absent";
    }

    /** Deletes {@code topic} and creates it again with {@code configs}; returns once the broker has them. */
    void recreateTopic(String topic, int partitions, Map<String, String> configs) throws Exception {
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
    void setTopicConfig(String topic, String name, String value) throws Exception {
        try (Admin admin = admin()) {
            setTopicConfig(admin, topic, name, value);
            await(topic + " " + name + "=" + value).atMost(START).pollInterval(Duration.ofMillis(250))
                    .until(() -> value.equals(topicConfig(admin, topic, name)));
        }
    }

    static void setTopicConfig(Admin admin, String topic, String name, String value) throws Exception {
        admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic),
                List.of(new AlterConfigOp(new ConfigEntry(name, value), AlterConfigOp.OpType.SET)))).all().get();
    }

    static String topicConfig(Admin admin, String topic, String name) {
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

    long appliedRecords() {
        return storedPositions("orders").values().stream().mapToLong(Long::longValue).sum();
    }

    static void assertReady(ServiceProcess process) {
        await(process.name() + " ready").atMost(START)
                .until(() -> process.managementStatus("/q/health/ready") == 200);
        assertEquals(200, process.managementStatus("/q/health/live"));
    }

    Map<TopicPartition, Long> storedPositions(String topic) {
        Map<TopicPartition, Long> positions = new TreeMap<>(Comparator.comparing(TopicPartition::toString));
        queryMap("SELECT kafka_partition::text, next_offset::text FROM projection_positions WHERE consumer_group = '"
                + GROUP + "' AND topic = '" + topic + "'").forEach((partition, next) -> positions.put(
                        new TopicPartition(topic, Integer.parseInt(partition)), Long.parseLong(next)));
        return positions;
    }

    Map<TopicPartition, Long> endOffsets(String topic) throws Exception {
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

    Map<TopicPartition, Long> committedOffsets(String topic) throws Exception {
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

    List<String> groupMembers() throws Exception {
        try (Admin admin = admin()) {
            return admin.describeConsumerGroups(List.of(GROUP)).all().get().get(GROUP).members().stream()
                    .map(member -> member.consumerId()).toList();
        }
    }

    /** The messages of a topic and type in the outbox, per key ({@link OutboxMessages}). */
    Map<String, Long> outboxMessages(String topic, String type) {
        OutboxMessages messages = new OutboxMessages();
        try (Connection connection = database();
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery(OutboxMessages.rowsOf(topic, type))) {
            while (result.next()) {
                messages.add(result.getString("message_key"), result.getBytes("records"));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(topic, e);
        }
        return messages.byKey();
    }

    private Connection database() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://localhost:" + postgresPort + "/postgres",
                EmbeddedPostgresql.USER, EmbeddedPostgresql.USER);
    }

    Map<String, String> queryMap(String sql) {
        Map<String, String> rows = new TreeMap<>();
        try (Connection connection = database();
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

    static String header(ConsumerRecord<?, ?> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
