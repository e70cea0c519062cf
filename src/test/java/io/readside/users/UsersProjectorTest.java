package io.readside.users;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.DeadLetters;
import io.readside.projection.InvalidRecordException;
import io.readside.testing.GuideEvents;
import io.readside.testing.InMemoryChannels;
import io.readside.testing.Polls;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The users projector handed polls as the Kafka connector hands them (records with the Kafka coordinates they would
 * have had), writing to a real PostgreSQL; its dead letters go to memory. Each test reads its own topic name, so
 * positions never mix between tests, and its own user ids.
 */
@QuarkusTest
@TestProfile(InMemoryChannels.class)
class UsersProjectorTest {

    private static final Duration APPLIED = Duration.ofSeconds(30);

    @Inject
    @Any
    InMemoryConnector connector;

    @Inject
    Pool pool;

    @Inject
    MeterRegistry registry;

    @Inject
    UsersProjector projector;

    /** The offsets the channel acknowledged (SmallRye commits them to Kafka), in order. */
    private final List<Long> acknowledged = new CopyOnWriteArrayList<>();
    private String topic;
    private long nextOffset;

    @BeforeEach
    void newTopic(TestInfo test) {
        topic = "memory-" + test.getTestMethod().orElseThrow().getName();
        nextOffset = 0;
        acknowledged.clear();
    }

    @Test
    void signupEmailChangeAndTombstoneGiveTheExpectedRows() {
        deliver("101", GuideEvents.signup(1, 101, "first@example.com", "1764230000.5"));
        awaitEmail(101, "first@example.com");
        deliver("101", GuideEvents.emailChanged(101, "second@example.com", "1764230100.25"));
        awaitEmail(101, "second@example.com");

        Row row = user(101);
        assertEquals(utc("2025-11-27T07:53:20.5Z"), row.getOffsetDateTime("signed_up_at"));
        assertEquals(utc("2025-11-27T07:55:00.25Z"), row.getOffsetDateTime("updated_at"));
        assertEquals(1L, row.getLong("source_offset"));

        deliver("101", (String) null);
        await().atMost(Duration.ofSeconds(10)).until(() -> user(101) == null);
    }

    @Test
    void redeliveredRecordDoesNotUndoALaterChange() {
        ConsumerRecord<byte[], byte[]> signup =
                deliver("102", GuideEvents.signup(2, 102, "old@example.com", "1764230000"));
        deliver("102", GuideEvents.emailChanged(102, "new@example.com", "1764230060"));
        awaitEmail(102, "new@example.com");

        deliver(signup); // the same topic, partition and offset again: a redelivery
        deliver("103", GuideEvents.signup(3, 103, "marker@example.com", "1764230000"));
        awaitEmail(103, "marker@example.com");

        assertEquals("new@example.com", user(102).getString("email"));
        assertEquals(1L, user(102).getLong("source_offset"));
        assertEquals(3L, position(0));
    }

    @Test
    void emailChangeWhoseSignupWasCompactedAwayCreatesTheUser() {
        deliver("104", GuideEvents.emailChanged(104, "kept@example.com", "1764230000"));
        awaitEmail(104, "kept@example.com");
        assertNull(user(104).getOffsetDateTime("signed_up_at"));

        // a signup seen later (a re-read of an uncompacted segment) fills in the signup time only
        deliver("104", GuideEvents.signup(4, 104, "kept@example.com", "1764229000"));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> user(104).getOffsetDateTime("signed_up_at") != null);
        assertEquals(utc("2025-11-27T07:36:40Z"), user(104).getOffsetDateTime("signed_up_at"));
    }

    @Test
    void undecodableRecordIsCountedAndTheChannelCarriesOn() {
        double before = rejected(InvalidRecordException.MALFORMED_JSON);

        ConsumerRecord<byte[], byte[]> garbage = deliver("105", "{\"type\": \"user.signup\", \"user_id\": 10");
        deliver("105", GuideEvents.signup(5, 105, "after@example.com", "1764230000"));
        awaitEmail(105, "after@example.com");

        assertEquals(before + 1, rejected(InvalidRecordException.MALFORMED_JSON));
        assertEquals(2L, position(0), "the rejected record's position moved too");
        List<? extends Message<Object>> deadLetters = deadLettersTo(topic + DeadLetters.SUFFIX);
        assertEquals(1, deadLetters.size(), "one dead letter, to " + topic + DeadLetters.SUFFIX);
        assertArrayEquals(garbage.value(), (byte[]) deadLetters.get(0).getPayload());

        deliver(garbage); // redelivered: already handled, neither counted nor sent again
        deliver("106", GuideEvents.signup(6, 106, "marker@example.com", "1764230000"));
        awaitEmail(106, "marker@example.com");
        assertEquals(before + 1, rejected(InvalidRecordException.MALFORMED_JSON));
        assertEquals(1, deadLettersTo(topic + DeadLetters.SUFFIX).size());
    }

    @Test
    void aPollIsAppliedInOffsetOrderAndAcknowledgedOnceAtItsLastRecord() {
        double before = rejected(InvalidRecordException.MALFORMED_JSON);
        List<ConsumerRecord<byte[], byte[]>> poll = List.of(
                record("107", GuideEvents.signup(7, 107, "first@example.com", "1764230000")),
                record("107", GuideEvents.emailChanged(107, "second@example.com", "1764230060")),
                record("107", null), // erased
                record("107", GuideEvents.signup(8, 107, "again@example.com", "1764230120")), // and back
                record("108", GuideEvents.signup(9, 108, "kept@example.com", "1764230000")),
                record("108", "{\"type\": \"user.signup\""), // set aside, the poll goes on
                record("108", GuideEvents.emailChanged(108, "changed@example.com", "1764230180")),
                record("109", GuideEvents.signup(10, 109, "gone@example.com", "1764230000")),
                record("109", null));
        deliver(poll);

        assertEquals(List.of(8L), acknowledged, "one acknowledgement, at the poll's last offset");
        assertEquals(9L, position(0));
        Row again = user(107);
        assertEquals("again@example.com", again.getString("email"));
        assertEquals(utc("2025-11-27T07:55:20Z"), again.getOffsetDateTime("signed_up_at"));
        assertEquals(3L, again.getLong("source_offset"));
        assertFalse(erased(107), "signed up again after its erasure");
        assertEquals("changed@example.com", user(108).getString("email"));
        assertEquals(6L, user(108).getLong("source_offset"));
        assertNull(user(109));
        assertTrue(erased(109));
        assertEquals(before + 1, rejected(InvalidRecordException.MALFORMED_JSON));
        assertArrayEquals(poll.get(5).value(),
                (byte[]) deadLettersTo(topic + DeadLetters.SUFFIX).get(0).getPayload());
    }

    /**
     * A poll as large as the channel's max.poll.records, whose records alternate between writes and erasures (each
     * kind's run a statement of its own) before a run of signups: applied in full, in one transaction.
     */
    @Test
    void aFullPollOfAlternatingSignupsAndErasuresIsApplied() {
        List<ConsumerRecord<byte[], byte[]>> poll = new ArrayList<>();
        for (long user = 300_000; user < 300_500; user++) {
            poll.add(record(Long.toString(user), GuideEvents.signup((int) user, user, "u@example.com", "1764230000")));
            poll.add(record(Long.toString(user), null));
        }
        for (long user = 300_500; user < 301_500; user++) {
            poll.add(record(Long.toString(user), GuideEvents.signup((int) user, user, "u@example.com", "1764230000")));
        }
        assertEquals(2_000, poll.size(), "mp.messaging.incoming.user-events.max.poll.records");
        deliver(poll);

        assertEquals(List.of(1_999L), acknowledged);
        assertEquals(2_000L, position(0));
        assertEquals(1_000L, count("SELECT count(*) FROM users WHERE user_id BETWEEN 300000 AND 301499"));
        assertEquals(500L, count("SELECT count(*) FROM users_erased WHERE user_id BETWEEN 300000 AND 300499"));
    }

    @Test
    void aFullPollOfUndecodableRecordsIsSetAsideAndTheChannelCarriesOn() {
        double before = rejected(InvalidRecordException.MALFORMED_JSON);
        List<ConsumerRecord<byte[], byte[]>> poll = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            poll.add(record("110", "{\"type\": \"user.signup\", \"user_id\": " + i));
        }
        deliver(poll);

        assertEquals(List.of(1_999L), acknowledged);
        assertEquals(2_000L, position(0));
        assertEquals(before + 2_000, rejected(InvalidRecordException.MALFORMED_JSON));
        assertEquals(2_000, deadLettersTo(topic + DeadLetters.SUFFIX).size());
    }

    private ConsumerRecord<byte[], byte[]> deliver(String key, String json) {
        ConsumerRecord<byte[], byte[]> record = record(key, json);
        deliver(record);
        return record;
    }

    /** The next record of the test's topic, partition 0. */
    private ConsumerRecord<byte[], byte[]> record(String key, String json) {
        byte[] value = json == null ? null : json.getBytes(StandardCharsets.UTF_8);
        return new ConsumerRecord<>(topic, 0, nextOffset++, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value);
    }

    /** A poll of one record. */
    private void deliver(ConsumerRecord<byte[], byte[]> record) {
        deliver(List.of(record));
    }

    /** A poll, as the Kafka connector hands it to the channel's method, applied and acknowledged. */
    private void deliver(List<ConsumerRecord<byte[], byte[]>> poll) {
        projector.applyBatch(Polls.of(poll, UsersProjector.CHANNEL, acknowledged)).await().atMost(APPLIED);
    }

    private long count(String sql) {
        return pool.query(sql).execute().await().atMost(Duration.ofSeconds(5)).iterator().next().getLong(0);
    }

    private boolean erased(long userId) {
        return pool.preparedQuery("SELECT 1 FROM users_erased WHERE user_id = $1").execute(Tuple.of(userId))
                .await().atMost(Duration.ofSeconds(5)).size() == 1;
    }

    private List<? extends Message<Object>> deadLettersTo(String deadLetterTopic) {
        return connector.sink(DeadLetters.CHANNEL).received().stream()
                .filter(m -> m.getMetadata(OutgoingKafkaRecordMetadata.class).orElseThrow().getTopic()
                        .equals(deadLetterTopic))
                .toList();
    }

    private void awaitEmail(long userId, String email) {
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            Row row = user(userId);
            return row != null && email.equals(row.getString("email"));
        });
    }

    private Row user(long userId) {
        RowSet<Row> rows = pool.preparedQuery("SELECT * FROM users WHERE user_id = $1")
                .execute(Tuple.of(userId)).await().atMost(Duration.ofSeconds(5));
        return rows.size() == 0 ? null : rows.iterator().next();
    }

    private long position(int partition) {
        return pool.preparedQuery("""
                SELECT next_offset FROM projection_positions
                 WHERE consumer_group = 'readside' AND topic = $1 AND kafka_partition = $2""")
                .execute(Tuple.of(topic, partition)).await().atMost(Duration.ofSeconds(5))
                .iterator().next().getLong(0);
    }

    private double rejected(String reason) {
        Counter counter = registry.find("readside.records.rejected")
                .tags("channel", UsersProjector.CHANNEL, "reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    private static OffsetDateTime utc(String instant) {
        return OffsetDateTime.parse(instant).withOffsetSameInstant(ZoneOffset.UTC);
    }
}
