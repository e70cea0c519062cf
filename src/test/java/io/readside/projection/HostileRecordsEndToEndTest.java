package io.readside.projection;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.RealInfrastructure;
import io.readside.testing.TestProducer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Records that public bug reports of similar systems show arriving in real topics: each is set aside with a dead
 * letter that fits (or, when none fits, with its bytes in PostgreSQL), the records after it are applied, and no
 * copy changes a byte.
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class HostileRecordsEndToEndTest {

    private static final Duration APPLIED = Duration.ofSeconds(60);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;

    @Test
    void orderWithAHugeNegativeExponentIsSetAsideWithAShortCauseAndTheRecordsAfterItAreApplied() {
        String poison = "{\"order_id\":\"hx-1\",\"user_id\":1001,\"category\":\"hostile\",\"total\":-1e2000000,"
                + "\"timestamp\":1764230400}";
        RecordMetadata sent = sendInvalidOnPurpose("orders", 0, "hx-1", poison);
        send("orders", 0, "hx-2", order("hx-2", "hostile", "12.50", "1764230401"));

        awaitOrder("hx-2");
        ConsumerRecord<byte[], byte[]> letter = awaitDeadLetter("orders.dlq", sent);
        assertArrayEquals(poison.getBytes(StandardCharsets.UTF_8), letter.value(), "the dead letter is the record");
        assertEquals("invalid-value", header(letter, "dead-letter-reason"));
        assertTrue(header(letter, "dead-letter-cause").length() < 400, header(letter, "dead-letter-cause"));
        given().get("/orders/hx-1").then().statusCode(404);
    }

    @Test
    void numbersOfAHundredMillionDigitsAreRefusedByTheirSizeOnEveryTopic() {
        RecordMetadata total = sendInvalidOnPurpose("orders", 1, "hx-3", "{\"order_id\":\"hx-3\",\"user_id\":1,\"category\":\"c\","
                + "\"total\":1e100000000,\"timestamp\":1764230400}");
        RecordMetadata time = sendInvalidOnPurpose("user-events", 1, "3301", "{\"type\":\"user.signup\",\"user_id\":3301,"
                + "\"email\":\"a@example.com\",\"timestamp\":1e100000000}");
        send("orders", 1, "hx-4", order("hx-4", "hostile", "1.00", "1764230402"));
        send("user-events", 1, "3302", signup(3302, "after@example.com"));

        awaitOrder("hx-4");
        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/3302").then().statusCode(200));
        assertEquals("invalid-value", header(awaitDeadLetter("orders.dlq", total), "dead-letter-reason"));
        assertEquals("invalid-value", header(awaitDeadLetter("user-events.dlq", time), "dead-letter-reason"));
    }

    @Test
    void anExponentBeyondAnIntIsSetAsideOnEveryTopicInsteadOfStoppingItsChannel() {
        RecordMetadata order = sendInvalidOnPurpose("orders", 1, "hx-15", "{\"order_id\":\"hx-15\",\"user_id\":1,\"category\":\"c\","
                + "\"total\":1,\"x\":1e2147483648,\"timestamp\":1764230400}");
        RecordMetadata user = sendInvalidOnPurpose("user-events", 1, "3308", "{\"type\":\"user.signup\",\"user_id\":3308,"
                + "\"email\":\"a@example.com\",\"timestamp\":1e2147483648}");
        RecordMetadata payment = sendInvalidOnPurpose("payments", 1, "hx-15", "{\"order_id\":\"hx-15\",\"type\":\"payment.completed\","
                + "\"timestamp\":1e-9999999999}");
        send("orders", 1, "hx-16", order("hx-16", "hostile", "1.00", "1764230408"));
        send("user-events", 1, "3309", signup(3309, "after@example.com"));

        awaitOrder("hx-16");
        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/3309").then().statusCode(200));
        for (RecordMetadata sent : List.of(order, user, payment)) {
            assertEquals("malformed-json", header(awaitDeadLetter(sent.topic() + ".dlq", sent), "dead-letter-reason"));
        }
        awaitPositionPast("readside-payments", "payments", payment);
    }

    @Test
    void aMegabyteKeyIsCopiedAsItIsWithACauseThatDoesNotQuoteIt() {
        String key = "k".repeat(600_000);
        RecordMetadata sent = sendInvalidOnPurpose("user-events", 2, key, signup(3303, "someone@example.com"));
        send("user-events", 2, "3304", signup(3304, "after@example.com"));

        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/3304").then().statusCode(200));
        ConsumerRecord<byte[], byte[]> letter = awaitDeadLetter("user-events.dlq", sent);
        assertArrayEquals(key.getBytes(StandardCharsets.UTF_8), letter.key());
        assertEquals("key-mismatch", header(letter, "dead-letter-reason"));
        assertTrue(header(letter, "dead-letter-cause").length() < 200, "cause is cut");
    }

    @Test
    void aValueJustUnderTheBrokersLimitGoesToTheDeadLetterTopicAsAStubAndItsBytesToPostgresql() {
        byte[] value = new byte[1_048_576 - 200]; // the record fits; with the dead-letter headers, it would not
        Arrays.fill(value, (byte) 'x');
        RecordMetadata sent = sendInvalidOnPurpose("payments", 0, "hx-pay", value);

        ConsumerRecord<byte[], byte[]> stub = awaitDeadLetter("payments.dlq", sent);
        assertNotNull(stub.headers().lastHeader(DeadLetters.STUB_HEADER), "a stub, not the copy");
        String stubText = new String(stub.value(), StandardCharsets.UTF_8);
        assertTrue(stubText.contains("\"value_bytes\":" + value.length), stubText);
        assertTrue(stubText.contains(DeadLetters.sha256(value)), stubText);
        Row kept = awaitSetAside("payments", sent);
        assertEquals("stub", kept.getString("dead_letter"));
        assertEquals("oversized", kept.getString("reason"));
        assertArrayEquals(value, kept.getBuffer("record_value").getBytes(), "the bytes are kept exactly");
        assertArrayEquals("hx-pay".getBytes(StandardCharsets.UTF_8), kept.getBuffer("record_key").getBytes());
        awaitPositionPast("readside-payments", "payments", sent);
    }

    @Test
    void aDeadLetterTheBrokerRefusesForGoodKeepsTheRecordInPostgresqlAndThePartitionMovesOn() throws Exception {
        String deadLetterTopic = "orders.dlq";
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            try {
                admin.createTopics(List.of(new NewTopic(deadLetterTopic, 3, (short) 1))).all().get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, deadLetterTopic);
            setMaxMessageBytes(admin, topic, "200"); // below the stub's size
            try {
                String poison = "{\"order_id\":\"hx-5\",\"user_id\":1,\"category\":\"c\",\"total\":\"-1\","
                        + "\"timestamp\":1764230400,\"pad\":\"" + "p".repeat(2_000) + "\"}";
                RecordMetadata sent = sendInvalidOnPurpose("orders", 2, "hx-5", poison);
                send("orders", 2, "hx-6", order("hx-6", "hostile", "2.00", "1764230403"));

                awaitOrder("hx-6");
                Row kept = awaitSetAside("orders", sent);
                assertEquals("none", kept.getString("dead_letter"));
                assertTrue(kept.getString("delivery_error").contains("RecordTooLargeException"),
                        kept.getString("delivery_error"));
                assertArrayEquals(poison.getBytes(StandardCharsets.UTF_8), kept.getBuffer("record_value").getBytes());
            } finally {
                setMaxMessageBytes(admin, topic, "1048588");
            }
        }
    }

    @Test
    void textWithNulOrAnUnpairedSurrogateIsSetAsideNeverRewritten() {
        RecordMetadata email = sendInvalidOnPurpose("user-events", 0, "3305", "{\"type\":\"user.signup\",\"user_id\":3305,"
                + "\"email\":\"x\\ud800y@example.com\",\"timestamp\":1764230000}");
        RecordMetadata category = sendInvalidOnPurpose("orders", 0, "hx-7", order("hx-7", "\\udc00", "1.00", "1764230404"));
        RecordMetadata nul = sendInvalidOnPurpose("orders", 0, "hx-8", order("hx-8", "bo\\u0000oks", "1.00", "1764230405"));
        send("orders", 0, "hx-9", order("hx-9", "hostile", "3.00", "1764230406"));
        send("user-events", 0, "3306", signup(3306, "after@example.com"));

        awaitOrder("hx-9");
        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/3306").then().statusCode(200));
        for (RecordMetadata sent : List.of(category, nul)) {
            assertEquals("invalid-value", header(awaitDeadLetter("orders.dlq", sent), "dead-letter-reason"));
        }
        assertEquals("invalid-value", header(awaitDeadLetter("user-events.dlq", email), "dead-letter-reason"));
        given().get("/users/3305").then().statusCode(404);
        given().get("/orders/hx-7").then().statusCode(404);
    }

    @Test
    void aKeyThatIsNotUtf8IsDeadLetteredWithTheSameBytes() {
        byte[] key = { 'h', 'x', (byte) 0xff, (byte) 0xfe };
        RecordMetadata sent = sendInvalidOnPurpose("orders", 1, key, order("hx-10", "hostile", "1.00", "1764230407")
                .getBytes(StandardCharsets.UTF_8));

        ConsumerRecord<byte[], byte[]> letter = awaitDeadLetter("orders.dlq", sent);
        assertArrayEquals(key, letter.key());
        assertEquals("not-utf8", header(letter, "dead-letter-reason"));
    }

    @Test
    void aTombstoneWhoseKeyIsNotExactlyTheUserIdIsADeadLetterAndErasesNobody() {
        send("user-events", 1, "3307", signup(3307, "kept@example.com"));
        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/3307").then().statusCode(200));
        RecordMetadata tombstone = sendInvalidOnPurpose("user-events", 1, "03307", (byte[]) null);

        assertEquals("key-mismatch", header(awaitDeadLetter("user-events.dlq", tombstone), "dead-letter-reason"));
        given().get("/users/3307").then().statusCode(200).body("email", equalTo("kept@example.com"));
    }

    @Test
    void processedOrdersCarriesTheOrderAsReceivedNumbersAsWritten() {
        String received = "{\"order_id\":\"hx-11\",\"user_id\":7,\"category\":\"hostile\",\"total\":100.00,"
                + "\"timestamp\":1764230000.0,\"discount\":12.50000,\"note\":\"caf\\u00e9\"}";
        send("orders", 2, "hx-11", received);

        String published = await().atMost(APPLIED).until(() -> processedOrder("hx-11"), value -> value != null);
        assertTrue(published.startsWith(received.substring(0, received.length() - 1) + ",\"processed_at\":"),
                published);
        assertTrue(published.endsWith(",\"status\":\"processed\"}"), published);
    }

    @Test
    void anOrderStampedADayAheadIsSetAsideAndDoesNotCloseTheWindowsOfTheOrdersAfterIt() {
        long now = Instant.now().getEpochSecond();
        RecordMetadata ahead = sendInvalidOnPurpose("orders", 0, "hx-12", order("hx-12", "clock", "5.00", Long.toString(now + 86_400)));
        RecordMetadata farAhead = sendInvalidOnPurpose("orders", 0, "hx-13",
                order("hx-13", "clock", "5.00", "\"9999-12-31T23:59:30Z\""));
        send("orders", 0, "hx-14", order("hx-14", "clock", "7.00", Long.toString(now - 10)));

        awaitOrder("hx-14");
        assertEquals("future-timestamp", header(awaitDeadLetter("orders.dlq", ahead), "dead-letter-reason"));
        assertEquals("invalid-value", header(awaitDeadLetter("orders.dlq", farAhead), "dead-letter-reason"));
        Instant from = Instant.ofEpochSecond(now - 600);
        Instant to = Instant.ofEpochSecond(now + 600);
        await().atMost(APPLIED).untilAsserted(() -> given().queryParam("category", "clock")
                .queryParam("from", from.toString()).queryParam("to", to.toString())
                .get("/revenue").then().statusCode(200).body("windows.revenue", equalTo(List.of("7.00"))));
    }

    @Test
    void aProducerWhoseWholeClockRunsFiftyMinutesAheadIsRefusedByTheBroker() {
        // the event time and the record's timestamp agree, so the service's skew bound cannot see it; had it been
        // applied, it would have moved partition 0's stream time 50 minutes ahead and made every order after it late
        long ahead = System.currentTimeMillis() + 50 * 60_000;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> producer
                    .sendStampedOnPurpose("orders", "hx-15", order("hx-15", "clock", "5.00",
                            Long.toString(ahead / 1000)), ahead));
            assertInstanceOf(InvalidTimestampException.class, refused.getCause(), refused.toString());
        }
        given().get("/orders/hx-15").then().statusCode(404);
    }

    // --- helpers --------------------------------------------------------------------------------------------------

    private static String order(String id, String category, String total, String timestamp) {
        return "{\"order_id\":\"" + id + "\",\"user_id\":1007,\"category\":\"" + category + "\",\"total\":" + total
                + ",\"timestamp\":" + timestamp + "}";
    }

    private static String signup(long userId, String email) {
        return "{\"type\":\"user.signup\",\"user_id\":" + userId + ",\"email\":\"" + email
                + "\",\"timestamp\":1764230000}";
    }

    private RecordMetadata send(String topic, int partition, String key, String value) {
        return send(topic, partition, bytes(key), bytes(value), true);
    }

    /** A hostile record: not checked against the topic's schema (see TestProducer). */
    private RecordMetadata sendInvalidOnPurpose(String topic, int partition, String key, String value) {
        return send(topic, partition, bytes(key), bytes(value), false);
    }

    private RecordMetadata sendInvalidOnPurpose(String topic, int partition, String key, byte[] value) {
        return send(topic, partition, bytes(key), value, false);
    }

    private RecordMetadata sendInvalidOnPurpose(String topic, int partition, byte[] key, byte[] value) {
        return send(topic, partition, key, value, false);
    }

    private RecordMetadata send(String topic, int partition, byte[] key, byte[] value, boolean valid) {
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            return valid ? producer.send(topic, partition, key, value)
                    : producer.sendInvalidOnPurpose(topic, partition, key, value);
        }
    }

    private static byte[] bytes(String text) {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }

    private void awaitOrder(String orderId) {
        await().atMost(APPLIED).untilAsserted(() -> given().get("/orders/" + orderId).then().statusCode(200));
    }

    /** The dead letter of the record {@code sent}, found by its origin headers. */
    private ConsumerRecord<byte[], byte[]> awaitDeadLetter(String deadLetterTopic, RecordMetadata sent) {
        return await().atMost(APPLIED).until(() -> readAll(deadLetterTopic).stream()
                .filter(letter -> sent.topic().equals(header(letter, "dead-letter-topic"))
                        && Integer.toString(sent.partition()).equals(header(letter, "dead-letter-partition"))
                        && Long.toString(sent.offset()).equals(header(letter, "dead-letter-offset")))
                .findFirst().orElse(null), letter -> letter != null);
    }

    private Row awaitSetAside(String topic, RecordMetadata sent) {
        return await().atMost(APPLIED).until(() -> {
            var rows = pool.preparedQuery("SELECT * FROM set_aside_records WHERE topic = $1 AND kafka_partition = $2"
                    + " AND kafka_offset = $3").execute(Tuple.of(topic, sent.partition(), sent.offset()))
                    .await().atMost(Duration.ofSeconds(10));
            return rows.size() == 0 ? null : rows.iterator().next();
        }, row -> row != null);
    }

    private void awaitPositionPast(String group, String topic, RecordMetadata sent) {
        await().atMost(APPLIED).until(() -> pool.preparedQuery("SELECT next_offset FROM projection_positions"
                + " WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3")
                .execute(Tuple.of(group, topic, sent.partition())).await().atMost(Duration.ofSeconds(10))
                .iterator().next().getLong(0), next -> next > sent.offset());
    }

    private String processedOrder(String orderId) {
        for (ConsumerRecord<byte[], byte[]> record : readAll("processed-orders")) {
            if (record.key() != null && orderId.equals(new String(record.key(), StandardCharsets.UTF_8))) {
                return new String(record.value(), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        return io.readside.testing.TopicReader.readAllRaw(bootstrapServers, topic);
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static void setMaxMessageBytes(Admin admin, ConfigResource topic, String bytes) throws Exception {
        admin.incrementalAlterConfigs(Map.of(topic, List.of(new AlterConfigOp(
                new ConfigEntry(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, bytes), AlterConfigOp.OpType.SET))))
                .all().get();
    }
}
