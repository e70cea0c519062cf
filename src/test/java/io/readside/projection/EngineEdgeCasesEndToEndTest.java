package io.readside.projection;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Future;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.LargestOrderTotals;
import io.readside.testing.TestProducer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Edge cases of the projection engine found by a reviewer of issue 16, each once a defect: aggregates that overflowed
 * depending on how records were batched (so a rebuild differed from live), a rebuild's switch racing a partition's
 * first record, and what a poll publishes (committed with it in the outbox, issue 21). The largest order total the configuration allows.
 */
@QuarkusTest
@TestProfile(LargestOrderTotals.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EngineEdgeCasesEndToEndTest {

    private static final Duration APPLIED = Duration.ofSeconds(120);
    private static final String BIG = "999999999999.99";
    private static final long BIG_USER = 4_100_001L;
    private static final long SMALL_USER = 4_100_002L;
    private static final long T = 1_764_230_000L;

    /** Every row of the orders read model's tables, keyed by table and key. */
    private static final String ORDER_TABLES = """
            SELECT 'orders|' || o.order_id AS k, row_to_json(o)::text AS v FROM orders o
            UNION ALL SELECT 'revenue_windows|' || w.category || '|' || w.window_start, row_to_json(w)::text
              FROM revenue_windows w
            UNION ALL SELECT 'revenue_contributions|' || c.order_id, row_to_json(c)::text FROM revenue_contributions c
            UNION ALL SELECT 'user_order_totals|' || u.user_id, row_to_json(u)::text FROM user_order_totals u
            UNION ALL SELECT 'positions|' || p.topic || '-' || p.kafka_partition, p.next_offset || '|' || p.stream_time
              FROM projection_positions p WHERE p.topic = 'orders' AND p.next_offset > 0""";

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;

    /** offsets of the hostile poll, by role */
    private static final Map<String, RecordMetadata> SENT = new LinkedHashMap<>();

    @Test
    @Order(3)
    void aggregatesTakeAnyNumberOfTheLargestOrdersSoARebuildEqualsLiveHoweverBatched() throws Exception {
        List<String[]> hundred = new ArrayList<>();
        for (int i = 1; i <= 100; i++) {
            hundred.add(big(i));
        }
        sendInOneTransaction(hundred);
        RecordMetadata hundredth = SENT.get("big-100");
        await().atMost(APPLIED).until(() -> position("readside", "orders", 0) > hundredth.offset());
        // the big user is at 100 x 999999999999.99 = 99,999,999,999,999.00 (numeric(16,2) held up to .99)
        assertEquals("100|99999999999999.00", text("SELECT order_count || '|' || total_spent FROM user_order_totals"
                + " WHERE user_id = " + BIG_USER));
        List<String[]> poll = new ArrayList<>();
        // alone, this new order would take the user to 100,999,999,999,998.99: refused (22003)
        poll.add(new String[] { "big-101b", "brk-big-101b", order("brk-big-101b", BIG_USER, "brk-big-101b", BIG,
                T + 103) });
        // a correction of an earlier order down to 0.01, after it
        poll.add(new String[] { "big-001-corrected", "brk-big-001", order("brk-big-001", BIG_USER, "brk-big-001",
                "0.01", T + 1) });
        sendInOneTransaction(poll);
        RecordMetadata last = SENT.get("big-001-corrected");
        await().atMost(APPLIED).until(() -> position("readside", "orders", 0) > last.offset());

        assertEquals(1, count("SELECT count(*) FROM orders WHERE order_id = 'brk-big-101b'"), "applied live");
        assertEquals("101|99999999999999.01", text("SELECT order_count || '|' || total_spent FROM user_order_totals"
                + " WHERE user_id = " + BIG_USER), "one order more of the largest total, and one corrected to 0.01");
        assertEquals(Map.of(), deadLetters(0), "nothing refused");

        Map<String, String> before = rows(ORDER_TABLES);
        given().post("/admin/rebuilds/orders").then().statusCode(202);
        awaitRebuilt("orders");
        Map<String, String> after = rows(ORDER_TABLES);
        Map<String, String> differences = new TreeMap<>();
        before.forEach((k, v) -> {
            if (!v.equals(after.get(k))) {
                differences.put(k, "live " + v + " / rebuilt " + after.get(k));
            }
        });
        after.forEach((k, v) -> {
            if (!before.containsKey(k)) {
                differences.put(k, "live (none) / rebuilt " + v);
            }
        });
        assertEquals(Map.of(), differences, "a rebuild equals the live tables row for row");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // A rebuild's switch holds the live writers by locking their position rows; a partition that had no row yet was
    // not held, and its first record, applied while the switch ran, landed in the table the switch moved away. The
    // switch now makes a row (next offset 0) for every partition first.
    // The window (catch-up of up to 1000 records, carry-over, DDL) is widened here by holding a lock on a table of
    // schema readside_replaced, which the switch drops (DROP SCHEMA ... CASCADE) before it swaps the tables.
    // ---------------------------------------------------------------------------------------------------------------

    @Test
    @Order(4)
    void aPartitionsFirstRecordAppliedDuringTheSwitchOfAUsersRebuildIsNotLost() throws Exception {
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("user-events", 0, "4200000", signup(4_200_000, "p0@example.com"));
            producer.send("user-events", 1, "4200001", signup(4_200_001, "p1@example.com"));
        }
        await().atMost(APPLIED).until(() -> count("SELECT count(*) FROM users WHERE user_id IN (4200000, 4200001)") == 2);
        assertEquals(0, count("SELECT count(*) FROM projection_positions WHERE topic = 'user-events'"
                + " AND kafka_partition = 2"), "partition 2 of user-events has no position yet");

        pool.query("CREATE SCHEMA IF NOT EXISTS readside_replaced").execute().await().atMost(APPLIED);
        pool.query("CREATE TABLE IF NOT EXISTS readside_replaced.breaker_blocker (x int)").execute()
                .await().atMost(APPLIED);
        SqlConnection blocker = pool.getConnection().await().atMost(APPLIED);
        blocker.query("BEGIN").execute().await().atMost(APPLIED);
        blocker.query("LOCK TABLE readside_replaced.breaker_blocker IN ACCESS SHARE MODE").execute()
                .await().atMost(APPLIED);
        try {
            given().post("/admin/rebuilds/users").then().statusCode(202);
            // the switch holds the live position rows and waits on our lock, just before it swaps the tables
            await().atMost(APPLIED).until(() -> count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type ="
                    + " 'Lock' AND query LIKE 'DROP SCHEMA IF EXISTS readside_replaced%'") == 1);

            try (TestProducer producer = new TestProducer(bootstrapServers)) {
                // partition 2 had no position row: the switch made one, so this writer waits for it as the others do
                producer.send("user-events", 2, "4200002", signup(4_200_002, "p2@example.com"));
                producer.send("user-events", 0, "4200010", signup(4_200_010, "p0-held@example.com"));
            }
        } finally {
            blocker.query("ROLLBACK").execute().await().atMost(APPLIED);
            blocker.close().await().atMost(APPLIED);
        }
        awaitRebuilt("users");
        await().atMost(APPLIED).until(() -> count("SELECT count(*) FROM users WHERE user_id = 4200010") == 1
                && position("readside", "user-events", 2) == 1);

        assertEquals(1, position("readside", "user-events", 2), "partition 2's record counts as applied");
        assertEquals(1, count("SELECT count(*) FROM users WHERE user_id = 4200002"),
                "the user whose signup was applied (position 1 on partition 2) is in the users table");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // "A crash between commit and publish loses nothing": what a poll publishes is written to the outbox in the
    // transaction that applies it (issue 21), so once its position moved, its records are committed beside it. An
    // order's version followed by an identical copy (a producer retry): the copy changes nothing and adds nothing.
    // ---------------------------------------------------------------------------------------------------------------

    @Test
    @Order(5)
    void aVersionIsInTheOutboxOnceItsPositionMovedAndItsIdenticalCopyAddsNothing() throws Exception {
        String value = order("brk-copy", SMALL_USER, "brk-copy", "3.00", T + 50);
        RecordMetadata version;
        RecordMetadata copy;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            version = producer.send("orders", 1, "brk-copy", value);
            copy = producer.send("orders", 1, "brk-copy", value); // a producer's retry: the same bytes
        }
        await().atMost(APPLIED).until(() -> position("readside", "orders", 1) > copy.offset());
        assertEquals(Long.toString(version.offset()), text("SELECT source_offset::text FROM orders"
                + " WHERE order_id = 'brk-copy'"), "the identical copy changed nothing");
        assertEquals(1, outboxValues("processed-orders", "brk-copy").size(),
                "the version's record is committed with its position; the copy adds none");
        await().atMost(APPLIED).until(() -> processedCount("brk-copy") == 1);
        assertEquals(1, processedCount("brk-copy"), "published once, the copy not");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The same for revenue-by-category: an order moved from category A to B (a correction). The transaction that
    // applies the correction writes A's new state (the order taken out) and B's, each with its window's revision, which
    // grows by one at every change of the window: a consumer keeps the highest.
    // ---------------------------------------------------------------------------------------------------------------

    @Test
    @Order(6)
    void aCorrectionPublishesBothWindowsWithTheirRevisionsFromTheOutbox() throws Exception {
        RecordMetadata v2;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", 2, "brk-move", order("brk-move", SMALL_USER, "brk-move-a", "4.00", T + 60));
            v2 = producer.send("orders", 2, "brk-move", order("brk-move", SMALL_USER, "brk-move-b", "4.00", T + 60));
        }
        await().atMost(APPLIED).until(() -> position("readside", "orders", 2) > v2.offset());
        List<String> a = outboxValues("revenue-by-category", "brk-move-a");
        List<String> b = outboxValues("revenue-by-category", "brk-move-b");
        assertTrue(!a.isEmpty() && !b.isEmpty(), "both windows' states are committed with the position: " + a + b);
        String lastA = a.get(a.size() - 1);
        assertTrue(lastA.contains("\"order_count\":0"), "window A emptied by the correction: " + lastA);
        assertEquals(text("SELECT revision::text FROM revenue_windows WHERE category = 'brk-move-a'"),
                revision(lastA), "A's last state carries the window row's revision");
        assertEquals(text("SELECT revision::text FROM revenue_windows WHERE category = 'brk-move-b'"),
                revision(b.get(b.size() - 1)), "B's last state carries the window row's revision");
        if (a.size() > 1) { // v1 and v2 in two polls: A was published at revision 1, then 2
            assertTrue(Long.parseLong(revision(a.get(0))) < Long.parseLong(revision(lastA)), "revisions grow: " + a);
        }
        await().atMost(APPLIED).until(() -> lastValue("revenue-by-category", "brk-move-a") != null
                && lastValue("revenue-by-category", "brk-move-a").contains("\"order_count\":0"));
        assertEquals(lastA, lastValue("revenue-by-category", "brk-move-a"), "the topic ends at A's last state");
    }

    /** The values the outbox holds for {@code key} on {@code topic} (projections' batches), in commit order. */
    private List<String> outboxValues(String topic, String key) {
        List<String> values = new ArrayList<>();
        for (Row row : pool.preparedQuery("SELECT records FROM outbox WHERE topic = $1 AND records IS NOT NULL"
                + " ORDER BY id").execute(Tuple.of(topic)).await().atMost(Duration.ofSeconds(30))) {
            for (io.readside.projection.outbox.OutboxRecords.KeyValue record : io.readside.projection.outbox
                    .OutboxRecords.decode(row.getBuffer("records").getBytes())) {
                if (key.equals(new String(record.key(), StandardCharsets.UTF_8))) {
                    values.add(new String(record.value(), StandardCharsets.UTF_8));
                }
            }
        }
        return values;
    }

    private static String revision(String value) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"revision\":(\\d+)").matcher(value);
        assertTrue(m.find(), "a revision in " + value);
        return m.group(1);
    }

    private long keyCount(String topic, String key) {
        return readAll(topic).stream()
                .filter(r -> r.key() != null && key.equals(new String(r.key(), StandardCharsets.UTF_8))).count();
    }

    private String lastValue(String topic, String key) {
        String last = null;
        for (ConsumerRecord<byte[], byte[]> r : readAll(topic)) {
            if (r.key() != null && key.equals(new String(r.key(), StandardCharsets.UTF_8))) {
                last = new String(r.value(), StandardCharsets.UTF_8);
            }
        }
        return last;
    }

    private long processedCount(String key) {
        return readAll("processed-orders").stream()
                .filter(r -> r.key() != null && key.equals(new String(r.key(), StandardCharsets.UTF_8))).count();
    }

    // --- helpers --------------------------------------------------------------------------------------------------

    private static String[] big(int i) {
        String id = "brk-big-%03d".formatted(i);
        return new String[] { "big-" + i, id, order(id, BIG_USER, id, BIG, T + i) };
    }

    private static String order(String id, long userId, String category, String total, long timestamp) {
        return "{\"order_id\":\"" + id + "\",\"user_id\":" + userId + ",\"category\":\"" + category + "\",\"total\":"
                + total + ",\"timestamp\":" + timestamp + "}";
    }

    private static String signup(long userId, String email) {
        return "{\"type\":\"user.signup\",\"user_id\":" + userId + ",\"email\":\"" + email
                + "\",\"timestamp\":1764230000}";
    }

    /** All in one Kafka transaction: a read_committed consumer sees them at once (one poll). */
    private void sendInOneTransaction(List<String[]> records) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "breaker-" + UUID.randomUUID(),
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (String[] record : records) {
                sent.add(producer.send(new ProducerRecord<>("orders", 0, record[1].getBytes(StandardCharsets.UTF_8),
                        record[2].getBytes(StandardCharsets.UTF_8))));
            }
            producer.commitTransaction();
            for (int i = 0; i < records.size(); i++) {
                SENT.put(records.get(i)[0], sent.get(i).get());
            }
        }
    }

    private long position(String group, String topic, int partition) {
        var rows = pool.preparedQuery("SELECT next_offset FROM projection_positions WHERE consumer_group = $1"
                + " AND topic = $2 AND kafka_partition = $3").execute(Tuple.of(group, topic, partition))
                .await().atMost(APPLIED);
        return rows.size() == 0 ? -1 : rows.iterator().next().getLong(0);
    }

    private long count(String sql) {
        return pool.query(sql).execute().await().atMost(APPLIED).iterator().next().getLong(0);
    }

    private String text(String sql) {
        var rows = pool.query(sql).execute().await().atMost(APPLIED);
        return rows.size() == 0 ? null : rows.iterator().next().getString(0);
    }

    private Map<String, String> rows(String sql) {
        Map<String, String> rows = new TreeMap<>();
        for (Row row : pool.query(sql).execute().await().atMost(APPLIED)) {
            rows.put(row.getString(0), row.getString(1));
        }
        return rows;
    }

    private void awaitRebuilt(String readModel) {
        await().atMost(Duration.ofMinutes(4)).until(() -> {
            String state = given().get("/admin/rebuilds/" + readModel).then().statusCode(200).extract().path("state");
            return "DONE".equals(state) || "FAILED".equals(state);
        });
        String error = given().get("/admin/rebuilds/" + readModel).then().extract().path("error");
        assertEquals("DONE", given().get("/admin/rebuilds/" + readModel).then().extract().path("state"),
                "rebuild of " + readModel + ": " + error);
    }

    /** Dead letters of orders partition {@code partition}: offset -> reasons (one per letter). */
    private Map<Long, List<String>> deadLetters(int partition) {
        Map<Long, List<String>> byOffset = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> letter : readAll("orders.dlq")) {
            if (Integer.toString(partition).equals(header(letter, "dead-letter-partition"))) {
                byOffset.computeIfAbsent(Long.parseLong(header(letter, "dead-letter-offset")), o -> new ArrayList<>())
                        .add(header(letter, "dead-letter-reason"));
            }
        }
        return byOffset;
    }

    private List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        return io.readside.testing.TopicReader.readAllRaw(bootstrapServers, topic);
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
