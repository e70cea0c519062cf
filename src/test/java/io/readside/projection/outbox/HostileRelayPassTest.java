package io.readside.projection.outbox;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.Output;
import io.readside.testing.HeldRelay;
import io.readside.testing.Management;
import io.readside.testing.RealInfrastructure;
import io.readside.testing.TopicLimits;
import io.readside.testing.TopicReader;
import io.restassured.response.Response;
import io.smallrye.mutiny.Multi;
import io.vertx.core.buffer.Buffer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * A hostile tester's relay passes at readside.outbox.batch-size=5000: thousands of message rows with hostile keys
 * and payloads, records rows near 4 MiB with arbitrary bytes, and a topic that refuses some records, all committed at
 * once (one pass of ~5,000 rows); and an operator's re-send during a backlog of rows near 4 MiB.
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class HostileRelayPassTest {

    private static final Duration WITHIN = Duration.ofSeconds(180);
    private static final String MESSAGES = "hostile-msg";
    private static final String RECORDS = "hostile-rec";
    private static final String REFUSING = "hostile-refuse";
    private static final String BIG = "hostile-big";

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;

    @Test
    void aPassOfFiveThousandHostileRowsKeepsEveryBytePublishesInOrderAndParksWhatIsRefused() throws Exception {
        TopicLimits.create(bootstrapServers, MESSAGES, null);
        TopicLimits.create(bootstrapServers, RECORDS, null);
        TopicLimits.create(bootstrapServers, REFUSING, "2000");
        Random random = new Random(42);
        String[] keys = hostileKeys();
        List<String> msgKeys = new ArrayList<>();
        List<String> msgPayloads = new ArrayList<>();
        for (int i = 0; i < 4990; i++) {
            msgKeys.add(keys[i % keys.length]);
            msgPayloads.add(hostilePayload(i, random));
        }
        List<Output> rec1 = records(RECORDS, 0, 240, random);
        List<Output> rec2 = records(RECORDS, 1000, 240, random);
        List<Output> rec3 = records(RECORDS, 2000, 240, random); // beyond the 8 MiB: a later pass
        byte[] big = bytes(8192, random);
        List<Output> refusing = List.of(
                new Output(REFUSING, utf8("r1"), big.clone()), // refused, then superseded by r1 v2
                new Output(REFUSING, utf8("r2"), utf8("{\"v\":1}")),
                new Output(REFUSING, utf8("r1"), utf8("{\"v\":2}")),
                new Output(REFUSING, utf8("r2"), concat(utf8("v2"), big)), // refused, waits
                new Output(REFUSING, new byte[] {0, (byte) 0xFF, (byte) 0xED, (byte) 0xA0, (byte) 0x80},
                        concat(new byte[] {0}, big), utf8("entity-r3")), // refused, waits (entity given)
                new Output(REFUSING, null, utf8("{\"null-key\":true}")));
        String refusedMessage = "{\"big\":\"" + HexFormat.of().formatHex(bytes(3000, random)) + "\"}"; // lz4 can't

        long before = maxId();
        pool.withTransaction(conn -> Multi.createFrom().range(0, 2000) // a row each, as a command's
                .onItem().transformToUniAndConcatenate(i -> Outbox.add(conn, MESSAGES, msgKeys.get(i), "hostile.test",
                        msgPayloads.get(i), null))
                .collect().last()
                .chain(() -> Outbox.addRecords(conn, rec1, null))
                .chain(() -> Outbox.addRecords(conn, refusing, null))
                .chain(() -> Outbox.addAll(conn, REFUSING, "hostile.test", List.of("refused-message"),
                        List.of(refusedMessage), null))
                .chain(() -> Outbox.addAll(conn, MESSAGES, "hostile.test", msgKeys.subList(2000, 4000),
                        msgPayloads.subList(2000, 4000), null))
                .chain(() -> Outbox.addAll(conn, MESSAGES, "hostile.test", msgKeys.subList(4000, 4990),
                        msgPayloads.subList(4000, 4990), null))
                .chain(() -> Outbox.addRecords(conn, rec2, null))
                .chain(() -> Outbox.addRecords(conn, rec3, null)))
                .await().atMost(WITHIN);
        long after = maxId();
        assertEquals(2000 + 1 + 1 + 1 + 1 + 1 + 1 + 1, after - before, "rows written (addAll: a row of messages)");

        await("every row marked published").atMost(WITHIN).pollInterval(Duration.ofMillis(200)).until(() -> count(
                "SELECT count(*) FROM outbox WHERE id > " + before + " AND id <= " + after
                        + " AND published_at IS NULL") == 0);

        // the messages: every one exactly once, its bytes intact, in outbox order per key; a message is told by its
        // outbox id, and in a row of several by its place in it too (<id>:<index>)
        Map<String, Integer> index = new HashMap<>();
        for (Row row : pool.query("SELECT id, message_key, payload, records FROM outbox WHERE topic = '" + MESSAGES
                + "' AND id > " + before + " AND id <= " + after + " ORDER BY id").execute().await().atMost(WITHIN)) {
            List<OutboxRecords.KeyValue> messages = row.getBuffer("records") == null
                    ? List.of(new OutboxRecords.KeyValue(utf8(row.getString("message_key")),
                            utf8(row.getString("payload")), null))
                    : OutboxRecords.decode(row.getBuffer("records").getBytes());
            for (int i = 0; i < messages.size(); i++) {
                int n = index.size();
                assertArrayEquals(utf8(msgKeys.get(n)), messages.get(i).key(), "the key as written, message " + n);
                assertArrayEquals(utf8(msgPayloads.get(n)), messages.get(i).value(), "the payload, message " + n);
                index.put(row.getLong("id") + (row.getBuffer("records") == null ? "" : ":" + i), n);
            }
        }
        assertEquals(4990, index.size());
        List<ConsumerRecord<byte[], byte[]>> published = TopicReader.readAllRaw(bootstrapServers, MESSAGES);
        Map<String, Integer> copies = new HashMap<>();
        Map<String, Integer> lastPerKey = new HashMap<>();
        List<String> disorder = new ArrayList<>();
        published.sort((a, b) -> a.partition() != b.partition() ? Integer.compare(a.partition(), b.partition())
                : Long.compare(a.offset(), b.offset()));
        for (ConsumerRecord<byte[], byte[]> record : published) {
            Header id = record.headers().lastHeader("readside-outbox-id");
            String outboxId = new String(id.value(), StandardCharsets.US_ASCII);
            Integer i = index.get(outboxId);
            if (i == null) {
                continue;
            }
            copies.merge(outboxId, 1, Integer::sum);
            assertArrayEquals(utf8(msgKeys.get(i)), record.key(), "key bytes of message " + i);
            assertArrayEquals(utf8(msgPayloads.get(i)), record.value(), "payload bytes of message " + i);
            String k = record.partition() + "/" + HexFormat.of().formatHex(record.key());
            Integer last = lastPerKey.put(k, i);
            if (last != null && last >= i) {
                disorder.add("message " + last + " before " + i);
            }
        }
        assertEquals(4990, copies.size(), "every message on the broker");
        assertEquals(List.of(), copies.values().stream().filter(n -> n != 1).toList(), "each once (no failure here)");
        assertEquals(List.of(), disorder, "per key in outbox order");

        // the records: every record's bytes, per key in order
        List<Output> allRecords = new ArrayList<>(rec1);
        allRecords.addAll(rec2);
        allRecords.addAll(rec3);
        assertRecordsPublished(RECORDS, allRecords, List.of());

        // the refusing topic: the small ones published, the large ones parked with their bytes, counted, in health
        assertRecordsPublished(REFUSING, refusing, List.of(0, 3, 4));
        List<Row> parked = new ArrayList<>();
        pool.query("SELECT outbox_id, record_index, message_key, entity, payload, superseded_at IS NOT NULL AS sup,"
                + " reason FROM parked_outputs WHERE topic = '" + REFUSING + "' AND outbox_id > " + before
                + " ORDER BY id").execute().await().atMost(WITHIN).forEach(parked::add);
        assertEquals(4, parked.size(), "three records and one message parked");
        assertArrayEquals(refusing.get(0).value(), buffer(parked.get(0), "payload"));
        assertEquals(true, parked.get(0).getBoolean("sup"), "r1 v1 superseded by r1 v2");
        assertArrayEquals(refusing.get(3).value(), buffer(parked.get(1), "payload"));
        assertEquals(false, parked.get(1).getBoolean("sup"), "r2 v2 is the latest: waits");
        assertArrayEquals(refusing.get(4).key(), buffer(parked.get(2), "message_key"));
        assertArrayEquals(refusing.get(4).entity(), buffer(parked.get(2), "entity"));
        assertArrayEquals(refusing.get(4).value(), buffer(parked.get(2), "payload"));
        assertArrayEquals(utf8(refusedMessage), buffer(parked.get(3), "payload"));
        assertArrayEquals(utf8("refused-message"), buffer(parked.get(3), "message_key"));
        await("counted and reported").atMost(WITHIN).untilAsserted(() -> {
            assertEquals(4.0, metric("readside_outputs_parked_total{topic=\"" + REFUSING + "\"}"));
            Management.given().get("/q/health/well").then().statusCode(503);
        });

        // the relay goes on
        long next = pool.withTransaction(conn -> Outbox.add(conn, MESSAGES, "after", "hostile.test", "{}", null))
                .await().atMost(WITHIN);
        await("the relay goes on").atMost(WITHIN)
                .until(() -> count("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL AND id = " + next) == 1);
        // the other tests of this profile count the parked records
        pool.query("DELETE FROM parked_outputs WHERE topic = '" + REFUSING + "'").execute().await().atMost(WITHIN);
    }

    @Test
    void aReSendDuringABacklogOfRowsNearFourMiBHoldsNoMoreThanTheRelayWould() throws Exception {
        TopicLimits.create(bootstrapServers, BIG, null);
        Random random = new Random(7);
        byte[] row = OutboxRecords.encode(records(BIG, 0, 250, random)); // ~4 MiB, as OutboxRecords.rows cuts
        assertTrue(row.length > 4_000_000 && row.length <= Outbox.MAX_ROW_BYTES + 20_000, "row of " + row.length);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory
                .getThreadMXBean();
        Response answer;
        long allocated = 0;
        HeldRelay relay = HeldRelay.hold(pool);
        boolean held = true;
        try {
            pool.preparedQuery("""
                    INSERT INTO outbox (topic, event_type, records)
                    SELECT $1, 'records', $2 FROM generate_series(1, 51)""")
                    .execute(Tuple.of(BIG, Buffer.buffer(row))).await().atMost(WITHIN);
            Map<Long, Long> start = allocations(threads, threads.getAllThreadIds());
            CompletableFuture<Response> resend = CompletableFuture.supplyAsync(
                    () -> given().post("/admin/parked-outputs/resend?topic=" + BIG));
            await("the re-send waits for the relay's lock").atMost(WITHIN).until(() -> count("""
                    SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                       AND query LIKE 'SELECT pg_advisory_xact_lock%'""") == 1);
            relay.close(); // the relay's lock goes to the waiting re-send (the relay's try fails while it waits)
            held = false;
            answer = resend.get(WITHIN.toSeconds(), TimeUnit.SECONDS);
            Map<Long, Long> end = allocations(threads, threads.getAllThreadIds());
            for (Map.Entry<Long, Long> e : end.entrySet()) {
                Long s = start.get(e.getKey());
                allocated += e.getValue() - (s == null ? 0 : s);
            }
        } finally {
            if (held) {
                relay.close();
            }
        }
        try (HeldRelay again = HeldRelay.hold(pool)) { // leave nothing for the other tests to wait for
            pool.query("DELETE FROM outbox WHERE topic = '" + BIG + "' AND published_at IS NULL").execute().await()
                    .atMost(WITHIN);
        }
        assertEquals(409, answer.statusCode(), "the relay has a backlog of the topic");
        // 19 GiB when the check read the backlog's 51 rows whole (about 204 MiB, decoded at a quadratic cost); 5 MiB
        // once it counts their ids first; the bound leaves room for the relay's next pass, which may begin meanwhile
        assertTrue(allocated < 1L << 30, "a re-send that answers 409 read the backlog's records whole: "
                + (allocated >> 20) + " MiB allocated");
    }

    /**
     * The relay parked a refused record, then lost its session before it marked the record's row published; an
     * operator re-sends while the topic still refuses it. The row itself is still in the outbox: the record must not
     * count as superseded by itself, and once the relay publishes the row again (refused again) it still waits.
     */
    @Test
    void aParkedRecordWhoseOwnRowIsStillUnpublishedIsNotSupersededByItselfAndStillWaits() throws Exception {
        parkedWithItsRowUnpublished("hostile-self", "records");
    }

    @Test
    void aParkedMessageOfARowOfMessagesWhoseRowIsStillUnpublishedStillWaits() throws Exception {
        parkedWithItsRowUnpublished("hostile-self-messages", "payment.requested"); // a command: no entity
    }

    @Test
    void aParkedMessageWhoseOwnRowIsStillUnpublishedStillWaits() throws Exception {
        parkedWithItsRowUnpublished("hostile-self-message", null); // a row of one message (a refund request)
    }

    private void parkedWithItsRowUnpublished(String topic, String type) throws Exception {
        TopicLimits.create(bootstrapServers, topic, "200");
        byte[] key = utf8("self-1");
        // over the topic's 200 bytes, compressed too
        byte[] value = utf8("{\"pad\":\"" + HexFormat.of().formatHex(bytes(3000, new Random(11))) + "\"}");
        CompletableFuture<Response> resend;
        long row;
        try (HeldRelay relay = HeldRelay.hold(pool)) {
            // what a relay leaves when its session ends between parking a batch's refusals and marking the batch
            row = (type == null ? pool.preparedQuery("""
                    INSERT INTO outbox (topic, message_key, event_type, payload)
                    VALUES ($1, 'self-1', 'refund.requested', convert_from($2, 'UTF8')) RETURNING id""")
                    .execute(Tuple.of(topic, Buffer.buffer(value)))
                    : pool.preparedQuery("""
                            INSERT INTO outbox (topic, event_type, records) VALUES ($1, $2, $3) RETURNING id""")
                            .execute(Tuple.of(topic, type, Buffer.buffer(OutboxRecords.encode(List.of(
                                    new Output(topic, key, value)))))))
                    .await().atMost(WITHIN).iterator().next().getLong(0);
            pool.preparedQuery("""
                    INSERT INTO parked_outputs (outbox_id, record_index, topic, message_key, entity, payload, reason)
                    VALUES ($1, 0, $2, $3, $5, $4, 'refused by the test topic')""")
                    .execute(Tuple.of(row, topic, Buffer.buffer(key), Buffer.buffer(value),
                            "records".equals(type) ? Buffer.buffer(key) : null)).await().atMost(WITHIN);
            resend = CompletableFuture.supplyAsync(() -> given().post("/admin/parked-outputs/resend"));
            await("the re-send waits for the relay's lock").atMost(WITHIN).until(() -> count("""
                    SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                       AND query LIKE 'SELECT pg_advisory_xact_lock%'""") == 1);
        } // the relay's lock goes to the waiting re-send, then back to the relay
        assertEquals(200, resend.get(WITHIN.toSeconds(), TimeUnit.SECONDS).statusCode());
        await("the row published again, its record refused again").atMost(WITHIN)
                .until(() -> count("SELECT count(*) FROM outbox WHERE id = " + row + " AND published_at IS NULL") == 0);
        assertEquals(1, count("SELECT count(*) FROM parked_outputs WHERE outbox_id = " + row
                + " AND resent_at IS NULL AND superseded_at IS NULL"), "the refused record still waits");
        pool.query("DELETE FROM parked_outputs WHERE topic = '" + topic + "'").execute().await().atMost(WITHIN);
    }

    /** Per live thread but the relay's and the producers' own: bytes allocated so far. */
    private static Map<Long, Long> allocations(com.sun.management.ThreadMXBean threads, long[] ids) {
        long[] bytes = threads.getThreadAllocatedBytes(ids);
        ThreadInfo[] infos = threads.getThreadInfo(ids);
        Map<Long, Long> each = new HashMap<>();
        for (int i = 0; i < ids.length; i++) {
            if (infos[i] == null || bytes[i] < 0 || infos[i].getThreadName().startsWith("readside-outbox-relay")
                    || infos[i].getThreadName().startsWith("kafka-producer-network-thread")) {
                continue;
            }
            each.put(ids[i], bytes[i]);
        }
        return each;
    }

    /** Each expected record once on the topic, bytes intact, per key in order; {@code refused}: indexes absent. */
    private void assertRecordsPublished(String topic, List<Output> expected, List<Integer> refused) {
        List<ConsumerRecord<byte[], byte[]>> published = TopicReader.readAllRaw(bootstrapServers, topic);
        Map<String, List<String>> seenPerKey = new LinkedHashMap<>();
        published.sort((a, b) -> a.partition() != b.partition() ? Integer.compare(a.partition(), b.partition())
                : Long.compare(a.offset(), b.offset()));
        for (ConsumerRecord<byte[], byte[]> record : published) {
            seenPerKey.computeIfAbsent(hex(record.key()), k -> new ArrayList<>()).add(hex(record.value()));
        }
        Map<String, List<String>> expectedPerKey = new LinkedHashMap<>();
        for (int i = 0; i < expected.size(); i++) {
            if (!refused.contains(i)) {
                expectedPerKey.computeIfAbsent(hex(expected.get(i).key()), k -> new ArrayList<>())
                        .add(hex(expected.get(i).value()));
            }
        }
        for (Map.Entry<String, List<String>> e : expectedPerKey.entrySet()) {
            List<String> seen = seenPerKey.getOrDefault(e.getKey(), List.of());
            if (e.getKey().equals("null")) {
                List<String> a = new ArrayList<>(seen);
                List<String> b = new ArrayList<>(e.getValue());
                a.sort(null);
                b.sort(null);
                assertEquals(b, a, topic + ": the null-key records, once each");
            } else {
                assertEquals(e.getValue().size(), seen.size(), topic + ": copies of key " + abbreviate(e.getKey()));
                assertTrue(e.getValue().equals(seen), topic + ": key " + abbreviate(e.getKey())
                        + " in order and byte for byte");
            }
        }
        for (int i : refused) {
            String value = hex(expected.get(i).value());
            assertTrue(published.stream().noneMatch(r -> hex(r.value()).equals(value)), "refused record " + i
                    + " is not on " + topic);
        }
    }

    private static String abbreviate(String hex) {
        return hex.length() > 40 ? hex.substring(0, 40) + "..." : hex;
    }

    /** Records of ~16 KiB with keys of arbitrary bytes (NUL, 0xFF, an encoded lone surrogate), null keys/values. */
    private static List<Output> records(String topic, int from, int n, Random random) {
        byte[][] keys = {
                {0}, {(byte) 0xFF, (byte) 0xFE}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, utf8("\uD83E\uDDE8"),
                utf8("k-" + "9".repeat(190)), null, {(byte) 0xC0, (byte) 0x80}, new byte[0] };
        List<Output> outputs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] key = keys[i % keys.length];
            byte[] value = (i % 37 == 5 && key != null) ? null
                    : concat(ByteBuffer.allocate(8).putLong(from + i).array(), bytes(16 * 1024, random));
            byte[] entity = i % 3 == 0 && key != null ? concat(key, new byte[] {0, 1}) : null;
            outputs.add(new Output(topic, key == null ? null : key.clone(), value, entity));
        }
        return outputs;
    }

    private static String[] hostileKeys() {
        List<String> keys = new ArrayList<>();
        keys.add("k".repeat(200));
        keys.add("\uD83E\uDDE8\uD83E\uDDE8 emoji");
        keys.add("\u202Eright-to-left\u202C");
        keys.add("tab\there\r\nnewline");
        keys.add("\uFFFD replacement");
        keys.add("e\u0301 combining");
        keys.add("\u00e9 composed");
        keys.add("中文键");
        keys.add("");
        keys.add(" ");
        for (int i = 0; i < 90; i++) {
            keys.add("order-" + i);
        }
        return keys.toArray(new String[0]);
    }

    private static String hostilePayload(int i, Random random) {
        return switch (i % 7) {
            case 0 -> "{\"n\":" + "9".repeat(400) + ",\"i\":" + i + "}";
            case 1 -> "{\"n\":1e999999,\"m\":-0,\"i\":" + i + "}";
            case 2 -> "{\"nul\":\"\\u0000\",\"lone\":\"\\ud800\",\"i\":" + i + "}";
            case 3 -> "{\"astral\":\"\uD83D\uDE00\uD800\uDC00\",\"i\":" + i + "}";
            case 4 -> i % 500 == 4 ? "{\"i\":" + i + ",\"pad\":\"" + "é".repeat(30_000) + "\"}" // ~60 KiB
                    : "{\"i\":" + i + ",\"x\":\"\\u00e9\\u0000-escaped\"}";
            case 5 -> "not json at all \u0001\u001f " + i;
            default -> "{\"i\":" + i + ",\"r\":" + random.nextLong() + "}";
        };
    }

    private long maxId() {
        return count("SELECT coalesce(max(id), 0) FROM outbox");
    }

    private long count(String sql) {
        return pool.preparedQuery(sql).execute(Tuple.tuple()).await().atMost(WITHIN).iterator().next().getLong(0);
    }

    private static byte[] buffer(Row row, String column) {
        return row.getBuffer(column) == null ? null : row.getBuffer(column).getBytes();
    }

    private static double metric(String name) {
        for (String line : Management.given().get("/q/metrics").asString().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim().split("\\s+")[0]);
            }
        }
        return 0;
    }

    private static String hex(byte[] bytes) {
        return bytes == null ? "null" : HexFormat.of().formatHex(bytes);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(int n, Random random) {
        byte[] bytes = new byte[n];
        random.nextBytes(bytes);
        return bytes;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
