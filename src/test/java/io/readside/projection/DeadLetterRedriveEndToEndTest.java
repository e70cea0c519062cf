package io.readside.projection;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;

import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.utils.Utils;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.replay.Redrive;
import io.readside.security.Roles;
import io.readside.testing.GuideEvents;
import io.readside.testing.RealInfrastructure;
import io.readside.testing.TestProducer;
import io.readside.testing.Tokens;
import io.readside.testing.TopicReader;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import io.restassured.specification.RequestSpecification;

/** POST /admin/dead-letters/{topic}/redrive sends dead letters back to their topic as they were first received. */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class DeadLetterRedriveEndToEndTest {

    private static final Duration SET_ASIDE = Duration.ofSeconds(60);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Redrive redrive;
    @Inject
    Pool pool;
    @Inject
    LogGuard guard;

    @Test
    void redrivenDeadLetterIsTheOriginalRecordAgainAndIsSetAsideAgainWhileStillRefused() throws Exception {
        byte[] value = """
                {"order_id":"redrive-1","user_id":1,"category":"books","total":"-5.00","timestamp":1764230000}"""
                .getBytes(StandardCharsets.UTF_8);
        // not the partition Java's partitioner would pick for the key (as a librdkafka producer may do): the redriven
        // record must come back to the partition it was read from
        byte[] key = "redrive-1".getBytes(StandardCharsets.UTF_8);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            admin.createTopics(List.of(new NewTopic("orders", 3, (short) 1))).all().get();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
        int partitions = TopicReader.partitions(bootstrapServers, "orders");
        int original = (Utils.toPositive(Utils.murmur2(key)) % partitions + 1) % partitions;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.sendInvalidOnPurpose("orders", original, key, value,
                    new RecordHeader("trace-id", "t-42".getBytes(StandardCharsets.UTF_8)));
        }
        ConsumerRecord<String, byte[]> letter = await().atMost(SET_ASIDE)
                .until(() -> deadLetters("redrive-1"), letters -> letters.size() == 1).get(0);

        List<Map<String, Object>> redriven = admin()
                .queryParam("partition", letter.partition())
                .queryParam("from", letter.offset()).queryParam("to", letter.offset())
                .post("/admin/dead-letters/orders/redrive")
                .then().statusCode(200).body("dead_letter_topic", equalTo("orders.dlq"))
                .extract().path("records");
        assertEquals(1, redriven.size());
        int partition = (Integer) redriven.get(0).get("partition");
        assertEquals(original, partition, "back to the partition it was read from");
        long offset = ((Number) redriven.get(0).get("offset")).longValue();

        ConsumerRecord<byte[], byte[]> again = TopicReader.readRange(bootstrapServers, "orders", partition, offset,
                offset + 1).get(0);
        assertEquals("redrive-1", new String(again.key(), StandardCharsets.UTF_8));
        assertArrayEquals(value, again.value());
        assertEquals("t-42", header(again, "trace-id"));
        assertEquals("orders.dlq-" + letter.partition() + "@" + letter.offset(), header(again, Redrive.REDRIVEN_FROM));
        assertNull(again.headers().lastHeader("dead-letter-reason"), "the dead-letter headers stay behind");

        // still a negative total: set aside again, now from its new offset
        List<ConsumerRecord<String, byte[]>> letters = await().atMost(SET_ASIDE)
                .until(() -> deadLetters("redrive-1"), found -> found.size() == 2);
        assertEquals(Long.toString(offset), header(letters.get(1), "dead-letter-offset"));
        assertEquals(header(letter, "dead-letter-reason"), header(letters.get(1), "dead-letter-reason"));
    }

    @Test
    void redrivingAnOlderVersionThanTheAppliedOneIsRefusedUnlessAskedForExplicitly() {
        // version 1, set aside as future-timestamp: its event time is 2 minutes past its record's (an hour-old)
        // Kafka timestamp; redriven, the record is stamped now, so the same event time is valid
        long now = System.currentTimeMillis();
        long eventTime = now - 3_600_000 + 120_000;
        RecordMetadata first;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            first = producer.sendStampedOnPurpose("orders", "rb-1", rbOrder("10.00", eventTime), now - 3_600_000);
        }
        ConsumerRecord<String, byte[]> letter = await().atMost(SET_ASIDE)
                .until(() -> deadLetters("rb-1"), letters -> letters.size() == 1).get(0);
        assertEquals("future-timestamp", header(letter, "dead-letter-reason"));
        // version 2, later on the same partition, is applied
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            assertEquals(first.partition(), producer.send("orders", "rb-1", rbOrder("20.00", eventTime)).partition());
        }
        await().atMost(SET_ASIDE).untilAsserted(() -> given().get("/orders/rb-1").then().statusCode(200)
                .body("total", equalTo(20.0f)));

        // redriving version 1 would make it the latest: refused, nothing sent
        admin().queryParam("partition", letter.partition())
                .queryParam("from", letter.offset()).queryParam("to", letter.offset())
                .post("/admin/dead-letters/orders/redrive")
                .then().statusCode(409).contentType("application/problem+json")
                .body("detail", containsString("newer version"))
                .body("detail", containsString("allow-older-versions=true"));
        assertEquals(List.of(), TopicReader.readAllBytes(bootstrapServers, "orders").stream()
                .filter(record -> record.headers().lastHeader(Redrive.REDRIVEN_FROM) != null
                        && "rb-1".equals(record.key()))
                .toList(), "nothing redriven");

        // asked for explicitly: redriven, and applied as the latest version
        admin().queryParam("partition", letter.partition())
                .queryParam("from", letter.offset()).queryParam("to", letter.offset())
                .queryParam("allow-older-versions", "true")
                .post("/admin/dead-letters/orders/redrive")
                .then().statusCode(200).body("records.size()", equalTo(1));
        await().atMost(SET_ASIDE).untilAsserted(() -> given().get("/orders/rb-1").then().statusCode(200)
                .body("total", equalTo(10.0f)));
    }

    @Test
    void redrivingAVersionOfAUserErasedSinceIsRefusedUnlessAskedForExplicitly() {
        // a user event set aside (unparseable), then the user erased by a tombstone on the same partition
        RecordMetadata setAside;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("user-events", "7701", GuideEvents.signup(77, 7701, "erased@example.com", "1764229000"));
            setAside = producer.sendInvalidOnPurpose("user-events", "7701", "{\"not\": \"an event\"");
            assertEquals(setAside.partition(), producer.send("user-events", "7701", (byte[]) null).partition());
        }
        ConsumerRecord<String, byte[]> letter = theOnlyUserLetter("7701");
        await().atMost(SET_ASIDE).untilAsserted(() -> given().get("/users/7701").then().statusCode(404));

        // redriving a version from before the erasure would bring the erased user back: refused, nothing sent
        admin().queryParam("partition", letter.partition())
                .queryParam("from", letter.offset()).queryParam("to", letter.offset())
                .post("/admin/dead-letters/user-events/redrive")
                .then().statusCode(409).contentType("application/problem+json")
                .body("detail", containsString("newer version"));
        assertEquals(List.of(), TopicReader.readAllBytes(bootstrapServers, "user-events").stream()
                .filter(record -> record.headers().lastHeader(Redrive.REDRIVEN_FROM) != null
                        && "7701".equals(record.key()))
                .toList(), "nothing redriven");
    }

    @Test
    void aRedriveWaitsForTheVersionsStillInTheLogSoAnErasureNotYetAppliedIsNotUndone() {
        RecordMetadata signedUp;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            signedUp = producer.send("user-events", "7703", GuideEvents.signup(80, 7703, "held@example.com",
                    "1764229000"));
            producer.sendInvalidOnPurpose("user-events", "7703", "{\"not\": \"an event\"");
        }
        ConsumerRecord<String, byte[]> letter = theOnlyUserLetter("7703");
        await().atMost(SET_ASIDE).untilAsserted(() -> given().get("/users/7703").then().statusCode(200));

        // the user is erased, but the users projector is held (its position row locked): the tombstone waits in the log
        SqlConnection holder = pool.getConnection().await().atMost(SET_ASIDE);
        try {
            holder.query("BEGIN").execute().await().atMost(SET_ASIDE);
            holder.preparedQuery("SELECT 1 FROM projection_positions WHERE consumer_group = 'readside'"
                    + " AND topic = 'user-events' AND kafka_partition = $1 FOR UPDATE")
                    .execute(Tuple.of(signedUp.partition())).await().atMost(SET_ASIDE);
            try (TestProducer producer = new TestProducer(bootstrapServers)) {
                producer.send("user-events", "7703", (byte[]) null);
            }
            // judged now, the letter would look newer than the user's applied version: it waits, then 503
            admin().queryParam("partition", letter.partition())
                    .queryParam("from", letter.offset()).queryParam("to", letter.offset())
                    .post("/admin/dead-letters/user-events/redrive")
                    .then().statusCode(503).contentType("application/problem+json").header("Retry-After", "5")
                    .body("detail", containsString("not all applied yet"));
        } finally {
            holder.query("ROLLBACK").execute().await().atMost(SET_ASIDE);
            holder.close().await().atMost(SET_ASIDE);
        }

        // once the erasure is applied, the letter is older than it: refused, and the user stays erased
        await().atMost(SET_ASIDE).untilAsserted(() -> given().get("/users/7703").then().statusCode(404));
        admin().queryParam("partition", letter.partition())
                .queryParam("from", letter.offset()).queryParam("to", letter.offset())
                .post("/admin/dead-letters/user-events/redrive")
                .then().statusCode(409).body("detail", containsString("newer version"));
        assertEquals(List.of(), TopicReader.readAllBytes(bootstrapServers, "user-events").stream()
                .filter(record -> record.headers().lastHeader(Redrive.REDRIVEN_FROM) != null
                        && "7703".equals(record.key()))
                .toList(), "nothing redriven");
    }

    @Test
    void aUserSignedUpAgainOnAnotherPartitionAfterItsErasureIsNotHeldBackByTheErasure() {
        // erased on the partition its key hashes to; then, as after partitions were added, signed up again on another
        RecordMetadata erased;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("user-events", "7702", GuideEvents.signup(78, 7702, "before@example.com", "1764229000"));
            await().atMost(SET_ASIDE).untilAsserted(() -> given().get("/users/7702").then().statusCode(200));
            erased = producer.send("user-events", "7702", (byte[]) null);
            await().atMost(SET_ASIDE).untilAsserted(() -> given().get("/users/7702").then().statusCode(404));
        }
        RecordMetadata setAside;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            int another = (erased.partition() + 1) % 3;
            producer.send("user-events", another, "7702",
                    GuideEvents.signup(79, 7702, "again@example.com", "1764229100"));
            setAside = producer.sendInvalidOnPurpose("user-events", another, "7702".getBytes(StandardCharsets.UTF_8),
                    "{\"not\": \"an event\"".getBytes(StandardCharsets.UTF_8));
        }
        ConsumerRecord<String, byte[]> letter = theOnlyUserLetter("7702");
        assertEquals(Integer.toString(setAside.partition()), header(letter, "dead-letter-partition"));
        await().atMost(SET_ASIDE).untilAsserted(() -> given().get("/users/7702").then().statusCode(200)
                .body("email", equalTo("again@example.com")));

        // the letter came after the user's latest applied version, on that version's partition: not an older one
        admin().queryParam("partition", letter.partition())
                .queryParam("from", letter.offset()).queryParam("to", letter.offset())
                .post("/admin/dead-letters/user-events/redrive")
                .then().statusCode(200).body("records.size()", equalTo(1));
    }

    @Test
    void aTopicFencedByAnotherInstanceIsNotRedrivenIntoThoughThisOneHasNotSeenTheFence() {
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.sendInvalidOnPurpose("user-events", "7704", "{\"not\": \"an event\"");
        }
        ConsumerRecord<String, byte[]> letter = theOnlyUserLetter("7704");
        // another instance found the log replaced and recorded the fence; this one's memory has not caught up yet
        assertEquals(1, sql("UPDATE log_identities SET fenced_reason = 'fenced by another instance', fenced_at = now()"
                + " WHERE topic = 'user-events'"));
        try {
            admin().queryParam("partition", letter.partition())
                    .queryParam("from", letter.offset()).queryParam("to", letter.offset())
                    .post("/admin/dead-letters/user-events/redrive")
                    .then().statusCode(409).contentType("application/problem+json")
                    .body("detail", containsString("fenced by another instance"))
                    .body("detail", containsString("accept-new-log"));
            assertEquals(List.of(), TopicReader.readAllBytes(bootstrapServers, "user-events").stream()
                    .filter(record -> record.headers().lastHeader(Redrive.REDRIVEN_FROM) != null
                            && "7704".equals(record.key()))
                    .toList(), "nothing redriven");
        } finally {
            sql("UPDATE log_identities SET fenced_reason = NULL, fenced_at = NULL WHERE topic = 'user-events'");
            await().atMost(SET_ASIDE).until(() -> guard.verify("user-events") == LogGuard.Verdict.SAME);
        }
    }

    private int sql(String statement) {
        return pool.query(statement).execute().await().atMost(SET_ASIDE).rowCount();
    }

    private static String rbOrder(String total, long eventTimeMillis) {
        return """
                {"order_id":"rb-1","user_id":1,"category":"books","total":"%s","timestamp":%d.%03d}"""
                .formatted(total, eventTimeMillis / 1000, eventTimeMillis % 1000);
    }

    @Test
    void aDeadLetterWhoseKeyHoldsNulIsRedrivenNotA500() {
        // no order id holds NUL, and PostgreSQL text cannot: the older-version check must not send it to the database
        String key = "nul\u0000-1";
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.sendInvalidOnPurpose("orders", key, """
                    {"order_id":"nul\\u0000-1","user_id":1,"category":"books","total":"1.00","timestamp":1764230000}""");
        }
        ConsumerRecord<String, byte[]> letter = await().atMost(SET_ASIDE)
                .until(() -> deadLetters(key), letters -> letters.size() == 1).get(0);
        admin().queryParam("partition", letter.partition())
                .queryParam("from", letter.offset()).queryParam("to", letter.offset())
                .post("/admin/dead-letters/orders/redrive")
                .then().statusCode(200).body("records.size()", equalTo(1));
    }

    @Test
    void redriveToATopicThatNoLongerExistsIsRefusedAndCreatesNothing() throws Exception {
        // the dead letters of a topic that was deleted since: "redrive-gone.dlq" exists, "redrive-gone" does not
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.sendInvalidOnPurpose("redrive-gone.dlq", 0, "k".getBytes(StandardCharsets.UTF_8),
                    "{}".getBytes(StandardCharsets.UTF_8),
                    new RecordHeader("dead-letter-topic", "redrive-gone".getBytes(StandardCharsets.UTF_8)),
                    new RecordHeader("dead-letter-partition", "0".getBytes(StandardCharsets.UTF_8)));
        }
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> redrive.redrive("redrive-gone", 0, 0, 0, false));
        assertTrue(refused.getMessage().contains("does not exist"), refused.getMessage());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            assertFalse(admin.listTopics().names().get().contains("redrive-gone"), "no admin operation creates a topic");
        }
    }

    @Test
    void redriveAnswersBadRequestsWithProblemsAndStrangersWith401Or403() {
        given().header("Authorization", "Bearer not-a-token").post("/admin/dead-letters/orders/redrive?from=0&to=0")
                .then().statusCode(401);
        given().header("Authorization", Tokens.bearer(Tokens.user(1, Roles.READER)))
                .post("/admin/dead-letters/orders/redrive?from=0&to=0").then().statusCode(403);
        admin().post("/admin/dead-letters/orders/redrive?to=3").then().statusCode(400)
                .contentType("application/problem+json").body("detail", containsString("'from' is required"));
        admin().post("/admin/dead-letters/orders/redrive?from=5&to=3").then().statusCode(400)
                .body("detail", containsString("'to' must be at least 'from'"));
        admin().post("/admin/dead-letters/orders/redrive?from=0&to=20000").then().statusCode(400);
        admin().post("/admin/dead-letters/processed-orders/redrive?from=0&to=1").then().statusCode(404)
                .body("detail", containsString("not a topic Readside projects"));
        admin().post("/admin/dead-letters/orders/redrive?partition=99&from=0&to=1").then().statusCode(404)
                .body("detail", containsString("has no partition 99"));
    }

    private static RequestSpecification admin() {
        return given();
    }

    private List<ConsumerRecord<String, byte[]>> deadLetters(String key) {
        return TopicReader.readAllBytes(bootstrapServers, "orders.dlq").stream()
                .filter(record -> key.equals(record.key())).toList();
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        return Optional.ofNullable(record.headers().lastHeader(name)).map(Header::value)
                .map(bytes -> new String(bytes, StandardCharsets.UTF_8)).orElse(null);
    }

    /** The one dead letter of user-events with this key, once it is there. */
    private ConsumerRecord<String, byte[]> theOnlyUserLetter(String key) {
        return await().atMost(SET_ASIDE).until(() -> TopicReader.readAllBytes(bootstrapServers, "user-events.dlq")
                .stream().filter(record -> key.equals(record.key())).toList(), letters -> letters.size() == 1).get(0);
    }
}
