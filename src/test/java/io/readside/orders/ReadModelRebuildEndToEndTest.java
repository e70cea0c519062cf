package io.readside.orders;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Future;

import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.security.Roles;
import io.readside.testing.Management;
import io.readside.testing.RealInfrastructure;
import io.readside.testing.Tokens;
import io.readside.testing.TestProducer;
import io.readside.testing.TopicReader;
import io.restassured.specification.RequestSpecification;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Rebuilding a read model from its topic (POST /admin/rebuilds/{readModel}): with nothing produced meanwhile the
 * rebuilt tables equal the live ones row for row; with orders flowing during the rebuild, the result equals the
 * test's own fold and nothing else moved; queries answer throughout.
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReadModelRebuildEndToEndTest {

    private static final String TOPIC = "orders";
    private static final List<String> CATEGORIES = List.of("rebuild-a", "rebuild-b", "rebuild-c");
    private static final long FIRST_USER = 700_000;
    private static final int USERS = 20;
    private static final Duration APPLIED = Duration.ofSeconds(120);
    private static final String ORDER_TABLES_SQL = """
            SELECT 'orders' AS t, o.order_id AS k, row_to_json(o)::text AS v FROM orders o
            UNION ALL SELECT 'revenue_windows', w.category || '|' || w.window_start, row_to_json(w)::text
              FROM revenue_windows w
            UNION ALL SELECT 'user_order_totals', u.user_id::text, row_to_json(u)::text FROM user_order_totals u
            UNION ALL SELECT 'positions', p.topic || '-' || p.kafka_partition,
                   p.next_offset || '|' || p.stream_time FROM projection_positions p""";

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;
    @Inject
    OrdersProjector orders;

    private TestProducer producer;
    private final OrdersFold fold = new OrdersFold();
    private final Random random = new Random(4242);
    private final List<String> ids = new ArrayList<>();
    private long clock;
    private int sequence;

    @BeforeAll
    void produceOrdersOfTheirOwnCategoriesAndUsers() {
        producer = new TestProducer(bootstrapServers);
        Instant latest = Instant.EPOCH;
        for (Row row : query("SELECT kafka_partition, stream_time FROM projection_positions WHERE topic = $1",
                Tuple.of(TOPIC))) {
            if (row.getOffsetDateTime("stream_time") != null) {
                Instant streamTime = row.getOffsetDateTime("stream_time").toInstant();
                fold.streamTime.put(row.getInteger("kafka_partition"), streamTime);
                latest = latest.isAfter(streamTime) ? latest : streamTime;
            }
        }
        clock = Math.max(latest.toEpochMilli(), 1_764_230_000_000L) + 60_000;
        for (int i = 0; i < USERS; i++) {
            producer.send("user-events", Long.toString(FIRST_USER + i), io.readside.testing.GuideEvents.signup(i,
                    FIRST_USER + i, "rebuilt" + i + "@example.com", "1764229000"));
        }
        produce(600);
        awaitEverythingApplied();
        // and the signups: on a topic new to the service its first records can come well after the orders, and the
        // users' position rows with them, which the row-for-row comparisons would see appear
        await().atMost(APPLIED).until(() -> query("SELECT user_id FROM users WHERE user_id >= $1 AND user_id < $2",
                Tuple.of(FIRST_USER, FIRST_USER + USERS)).size() == USERS);
    }

    @AfterAll
    void closeProducer() {
        producer.close();
    }

    @Test
    @Order(1)
    void adminOperationsNeedTheAdminRole() {
        String reader = Tokens.bearer(Tokens.user(1, Roles.READER));
        given().header("Authorization", reader).post("/admin/rebuilds/orders").then().statusCode(403);
        given().header("Authorization", reader).get("/admin/rebuilds/orders").then().statusCode(403);
        given().header("Authorization", "Bearer not-a-token").post("/admin/rebuilds/orders").then().statusCode(401);
        admin().post("/admin/rebuilds/nothing").then().statusCode(404)
                .contentType("application/problem+json").body("detail", allOf(
                        startsWith("no read model 'nothing'; known: ["), containsString("orders, "), // among any others
                        containsString("revenue, "), containsString("user-order-totals, "), endsWith(", users]")));
    }

    @Test
    @Order(2)
    void rebuiltTablesEqualTheLiveOnesRowForRow() {
        Map<String, String> before = orderTables();
        long deadLetters = TopicReader.readAllBytes(bootstrapServers, TOPIC + ".dlq").size();
        long records = endOffsets().values().stream().mapToLong(Long::longValue).sum();

        admin().post("/admin/rebuilds/orders").then().statusCode(202)
                .header("Location", org.hamcrest.Matchers.endsWith("/admin/rebuilds/orders"));
        admin().post("/admin/rebuilds/orders").then().statusCode(409);
        awaitRebuilt("orders");

        assertEquals(before, orderTables());
        admin().get("/admin/rebuilds/orders").then().statusCode(200)
                .body("state", equalTo("DONE"))
                .body("replayed_records", equalTo((int) records))
                .body("invalid_records", equalTo((int) deadLetters))
                .body("remaining_records", equalTo(0))
                .body("switch_millis", notNullValue());
        Management.given().get("/q/metrics").then().statusCode(200).body(org.hamcrest.Matchers.containsString(
                "readside_rebuild_replayed_records{read_model=\"orders\"} " + records + ".0"));
    }

    @Test
    @Order(3)
    void ordersFlowingDuringARebuildLandInTheNewTablesExactlyOnce() {
        Map<String, String> others = othersOnly(orderTables());
        Map<Integer, Long> endsBefore = endOffsets();
        List<String> applied = List.copyOf(ids);

        admin().post("/admin/rebuilds/orders").then().statusCode(202);
        // orders keep coming while it runs, but a bounded number: on a slow machine an endless stream would keep the
        // rebuild chasing the log's end for ever
        for (int round = 0; round < 25 && !rebuildFinished("orders"); round++) {
            produce(40);
            String id = applied.get(random.nextInt(applied.size()));
            given().get("/orders/{id}", id).then().statusCode(200); // the read model answers during the rebuild
        }
        await().atMost(Duration.ofMinutes(5)).until(() -> rebuildFinished("orders"));
        produce(40); // and after it, into the new tables
        awaitEverythingApplied();

        admin().get("/admin/rebuilds/orders").then().body("state", equalTo("DONE"));
        Map<String, Object> liveAtSwitch = admin().get("/admin/rebuilds/orders").then().extract().path("live_offsets");
        long appliedAtSwitch = liveAtSwitch.values().stream().mapToLong(v -> ((Number) v).longValue()).sum();
        assertTrue(appliedAtSwitch > endsBefore.values().stream().mapToLong(Long::longValue).sum(),
                "orders produced during the rebuild were applied before the switch");

        Map<String, String> after = orderTables();
        assertEquals(others, othersOnly(after), "rows of other orders, categories and users did not move");
        assertEquals(fold.windowFigures(), windows());
        Map<String, String> expectedOrders = new TreeMap<>();
        fold.orders.forEach((id, order) -> expectedOrders.put(id, order.category() + "|"
                + order.total().setScale(2) + "|" + order.userId()));
        Map<String, String> actualOrders = new TreeMap<>();
        for (Row row : query("SELECT * FROM orders WHERE order_id LIKE 'rebuild-%'", Tuple.tuple())) {
            actualOrders.put(row.getString("order_id"), row.getString("category") + "|" + row.getBigDecimal("total")
                    + "|" + row.getLong("user_id"));
        }
        assertEquals(expectedOrders, actualOrders);
        Map<Long, String> expectedTotals = new TreeMap<>();
        fold.users.forEach((user, sums) -> expectedTotals.put(user, sums[1].intValue() + "|" + sums[0].setScale(2)));
        Map<Long, String> actualTotals = new TreeMap<>();
        for (Row row : query("SELECT * FROM user_order_totals WHERE user_id >= $1", Tuple.of(FIRST_USER))) {
            actualTotals.put(row.getLong("user_id"), row.getInteger("order_count") + "|"
                    + row.getBigDecimal("total_spent"));
        }
        assertEquals(expectedTotals, actualTotals);
    }

    @Test
    @Order(4)
    void usersReadModelRebuildsToTheSameRowsEvenWhenASignupWasCompactedAway() {
        // user-events is compacted: a signup may be gone behind a later email change. The live row learnt the signup
        // time when the signup was still there (set here directly); the topic, replayed, no longer holds it
        long compacted = FIRST_USER + USERS;
        producer.send("user-events", Long.toString(compacted), io.readside.testing.GuideEvents.emailChanged(compacted,
                "compacted@example.com", "1764229500"));
        await().atMost(APPLIED).until(() -> query("SELECT 1 FROM users WHERE user_id = $1", Tuple.of(compacted))
                .size() == 1);
        query("UPDATE users SET signed_up_at = '2025-11-27T07:30:00Z' WHERE user_id = $1", Tuple.of(compacted));
        String sql = "SELECT row_to_json(u)::text FROM users u ORDER BY user_id";
        List<String> before = query(sql, Tuple.tuple()).stream().map(row -> row.getString(0)).toList();
        assertTrue(before.size() >= USERS, "users exist to rebuild");

        admin().post("/admin/rebuilds/users").then().statusCode(202);
        awaitRebuilt("users");

        assertEquals(before, query(sql, Tuple.tuple()).stream().map(row -> row.getString(0)).toList());
    }

    @Test
    @Order(5)
    void aReadModelDerivedFromOrdersIsRebuiltAloneAndNothingElseMoves() {
        awaitEverythingApplied();
        // three faults, one in each table: revenue's is rebuilt away, the others are not touched
        Row window = query("SELECT category, window_start FROM revenue_windows WHERE category LIKE 'rebuild-%' "
                + "AND order_count > 0 ORDER BY category, window_start LIMIT 1", Tuple.tuple()).get(0);
        query("UPDATE revenue_windows SET revenue = revenue + 1000 WHERE category = $1 AND window_start = $2",
                Tuple.of(window.getString(0), window.getOffsetDateTime(1)));
        query("UPDATE user_order_totals SET order_count = order_count + 100 WHERE user_id = $1", Tuple.of(FIRST_USER));
        String order = ids.get(0);
        query("UPDATE orders SET total = total + 1000 WHERE order_id = $1", Tuple.of(order));
        String positionsSql = "SELECT kafka_partition || '|' || next_offset || '|' || stream_time FROM "
                + "projection_positions WHERE topic = 'orders' ORDER BY kafka_partition";
        List<String> positions = query(positionsSql, Tuple.tuple()).stream().map(row -> row.getString(0)).toList();
        try {
            assertTrue(!fold.windowFigures().equals(windows()), "the revenue fault is there");
            admin().post("/admin/rebuilds/revenue").then().statusCode(202)
                    .header("Location", org.hamcrest.Matchers.endsWith("/admin/rebuilds/revenue"));
            awaitRebuilt("revenue");

            assertEquals(fold.windowFigures(), windows(), "revenue rebuilt from the log");
            admin().get("/admin/rebuilds/revenue").then().body("topic", equalTo(TOPIC));
            assertEquals(1, query("SELECT 1 FROM user_order_totals WHERE user_id = $1 AND order_count >= 100",
                    Tuple.of(FIRST_USER)).size(), "users' totals untouched");
            assertEquals(1, query("SELECT 1 FROM orders WHERE order_id = $1 AND total >= 1000", Tuple.of(order))
                    .size(), "the orders table untouched");
            assertEquals(positions, query(positionsSql, Tuple.tuple()).stream().map(row -> row.getString(0))
                    .toList(), "positions and stream times untouched");
        } finally {
            query("UPDATE user_order_totals SET order_count = order_count - 100 WHERE user_id = $1",
                    Tuple.of(FIRST_USER));
            query("UPDATE orders SET total = total - 1000 WHERE order_id = $1", Tuple.of(order));
        }
    }

    /**
     * Rebuilt alone, a read model is folded against the orders table's versions from then on: when the live orders
     * table holds a version the log does not give (another partition's, or one retention deleted), the switch is
     * refused and says so, and the live tables stay as they were.
     */
    @Test
    @Order(6)
    void aReadModelIsNotSwitchedInAloneWhenTheLiveOrdersTableDiffersFromTheLog() {
        awaitEverythingApplied();
        String order = ids.get(1);
        query("UPDATE orders SET source_offset = source_offset + 1000000 WHERE order_id = $1", Tuple.of(order));
        try {
            assertUserTotalsRefusedAlone("1 orders of the replayed log differ from the live orders table",
                    "the stream time of 0 partitions");
        } finally {
            query("UPDATE orders SET source_offset = source_offset - 1000000 WHERE order_id = $1", Tuple.of(order));
        }
    }

    /** ... and when a partition's stream time differs: the switch would move it for the models that stay. */
    @Test
    @Order(7)
    void aReadModelIsNotSwitchedInAloneWhenItWouldMoveTheTopicsStreamTime() {
        awaitEverythingApplied();
        String move = "UPDATE projection_positions SET stream_time = stream_time + $2::text::interval "
                + "WHERE consumer_group = $1 AND topic = 'orders' AND kafka_partition = 0 AND stream_time IS NOT NULL";
        assertEquals(1, pool.preparedQuery(move).execute(Tuple.of(orders.group(), "-1 second")).await()
                .atMost(APPLIED).rowCount(), "partition 0 has a clock");
        try {
            assertUserTotalsRefusedAlone("0 orders of the replayed log", "the stream time of 1 partitions");
        } finally {
            query(move, Tuple.of(orders.group(), "1 second"));
        }
    }

    /** A fault in user_order_totals; its rebuild alone is refused with {@code reasons}; the fault is still there. */
    private void assertUserTotalsRefusedAlone(String... reasons) {
        query("UPDATE user_order_totals SET order_count = order_count + 100 WHERE user_id = $1", Tuple.of(FIRST_USER));
        try {
            admin().post("/admin/rebuilds/user-order-totals").then().statusCode(202);
            await().atMost(APPLIED).until(() -> rebuildFinished("user-order-totals"));
            var status = admin().get("/admin/rebuilds/user-order-totals").then().body("state", equalTo("FAILED"));
            for (String reason : reasons) {
                status.body("error", org.hamcrest.Matchers.containsString(reason));
            }
            assertEquals(1, query("SELECT 1 FROM user_order_totals WHERE user_id = $1 AND order_count >= 100",
                    Tuple.of(FIRST_USER)).size(), "the live totals were not replaced");
        } finally {
            query("UPDATE user_order_totals SET order_count = order_count - 100 WHERE user_id = $1",
                    Tuple.of(FIRST_USER));
        }
    }

    private static RequestSpecification admin() {
        return given();
    }

    private void awaitRebuilt(String readModel) {
        await().atMost(APPLIED).until(() -> rebuildFinished(readModel));
        admin().get("/admin/rebuilds/" + readModel).then().body("state", equalTo("DONE"))
                .body("error", org.hamcrest.Matchers.nullValue());
    }

    private static boolean rebuildFinished(String readModel) {
        String state = admin().get("/admin/rebuilds/" + readModel).then().statusCode(200).extract().path("state");
        return "DONE".equals(state) || "FAILED".equals(state);
    }

    /** New orders and corrections of earlier ones, some late, in this test's categories and for its users. */
    private void produce(int count) {
        List<Future<RecordMetadata>> futures = new ArrayList<>();
        List<Object[]> orders = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            clock += 200 + random.nextInt(1_800);
            String id = !ids.isEmpty() && random.nextDouble() < 0.15 ? ids.get(random.nextInt(ids.size()))
                    : "rebuild-" + String.format("%05d", sequence++);
            if (!ids.contains(id)) {
                ids.add(id);
            }
            long createdAt = clock - (random.nextDouble() < 0.05 ? 400_000 : random.nextInt(3_000));
            long user = FIRST_USER + random.nextInt(USERS);
            String category = CATEGORIES.get(random.nextInt(CATEGORIES.size()));
            BigDecimal total = BigDecimal.valueOf(100 + random.nextInt(20_000), 2);
            // half of them list items (a correction may change only those: a SKU, a quantity, a price, the order)
            StringBuilder items = new StringBuilder();
            for (int item = random.nextBoolean() ? random.nextInt(4) : -1; item >= 0; item--) {
                items.append(items.isEmpty() ? ",\"items\":[" : ",").append("{\"sku\":\"rebuild-s-").append(random.nextInt(3))
                        .append("\",\"qty\":").append(1 + random.nextInt(2)).append(",\"price\":")
                        .append(BigDecimal.valueOf(random.nextInt(3) * 100, 2)).append('}');
            }
            String listed = items.isEmpty() ? "" : items.append(']').toString();
            futures.add(producer.sendAsync(TOPIC, id, """
                    {"order_id":"%s","user_id":%d,"category":"%s","total":"%s","timestamp":%d.%03d%s}"""
                    .formatted(id, user, category, total, createdAt / 1000, createdAt % 1000, listed)));
            orders.add(new Object[] { id, user, category, total, createdAt });
        }
        List<Object[]> sent = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            RecordMetadata at = TestProducer.await(futures.get(i));
            sent.add(new Object[] { at.partition(), at.offset(), orders.get(i) });
        }
        sent.sort(Comparator.comparing((Object[] s) -> (Integer) s[0]).thenComparing(s -> (Long) s[1]));
        for (Object[] s : sent) {
            Object[] o = (Object[]) s[2];
            fold.apply((Integer) s[0], (Long) s[1], (String) o[0], (Long) o[1], (String) o[2], (BigDecimal) o[3],
                    null, Instant.ofEpochMilli((Long) o[4]));
        }
    }

    private void awaitEverythingApplied() {
        await().atMost(APPLIED).until(() -> {
            Map<Integer, Long> positions = new TreeMap<>();
            for (Row row : query("SELECT kafka_partition, next_offset FROM projection_positions "
                    + "WHERE consumer_group = 'readside' AND topic = $1", Tuple.of(TOPIC))) {
                positions.put(row.getInteger(0), row.getLong(1));
            }
            return positions.equals(endOffsets());
        });
    }

    private Map<Integer, Long> endOffsets() {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            int partitions = admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC).partitions().size();
            Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
            for (int p = 0; p < partitions; p++) {
                latest.put(new TopicPartition(TOPIC, p), OffsetSpec.latest());
            }
            Map<Integer, Long> ends = new TreeMap<>();
            admin.listOffsets(latest).all().get().forEach((tp, info) -> {
                if (info.offset() > 0) {
                    ends.put(tp.partition(), info.offset());
                }
            });
            return ends;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The tables {@link #ORDER_TABLES_SQL} reads by key; every other table of the orders read models is read whole. */
    private static final Set<String> KEYED = Set.of("orders", "revenue_windows", "user_order_totals");

    /**
     * Every row of the orders read models and the positions, by table and key: the tables are the registered read
     * models' ({@code tables()}), so a new model's are compared too (a row's JSON is its key there).
     */
    private Map<String, String> orderTables() {
        List<String> tables = orders.tables();
        assertTrue(tables.containsAll(KEYED), "the keyed tables are read models' tables: " + tables);
        Map<String, String> rows = new TreeMap<>();
        for (Row row : query(ORDER_TABLES_SQL, Tuple.tuple())) {
            rows.put(row.getString("t") + "|" + row.getString("k"), row.getString("v"));
        }
        for (String table : tables) {
            if (!KEYED.contains(table)) {
                for (Row row : query("SELECT row_to_json(t)::text FROM " + table + " t", Tuple.tuple())) {
                    rows.put(table + "|" + row.getString(0), "");
                }
            }
        }
        return rows;
    }

    private static Map<String, String> othersOnly(Map<String, String> rows) {
        Map<String, String> others = new TreeMap<>(rows);
        others.keySet().removeIf(key -> key.startsWith("orders|rebuild-") || key.startsWith("positions|")
                || key.startsWith("revenue_windows|rebuild-")
                || key.startsWith("user_order_totals|") && Long.parseLong(key.split("\\|")[1]) >= FIRST_USER
                // a whole-read table's rows of this test's orders (ids and categories start with "rebuild-")
                || !KEYED.contains(key.substring(0, key.indexOf('|'))) && key.contains("\"rebuild-"));
        return others;
    }

    /** "category|windowStart" -> "revenue|count" of this test's windows with orders in them. */
    private Map<String, String> windows() {
        Map<String, String> windows = new TreeMap<>();
        for (Row row : query("SELECT * FROM revenue_windows WHERE category LIKE 'rebuild-%' AND order_count > 0",
                Tuple.tuple())) {
            windows.put(row.getString("category") + "|" + row.getOffsetDateTime("window_start").toInstant(),
                    row.getBigDecimal("revenue").toPlainString() + "|" + row.getInteger("order_count"));
        }
        return windows;
    }

    private List<Row> query(String sql, Tuple parameters) {
        List<Row> rows = new ArrayList<>();
        pool.preparedQuery(sql).execute(parameters).await().atMost(Duration.ofSeconds(30)).forEach(rows::add);
        return rows;
    }
}
