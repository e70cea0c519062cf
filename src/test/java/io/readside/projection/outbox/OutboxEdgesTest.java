package io.readside.projection.outbox;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.Output;
import io.readside.testing.HeldRelay;
import io.readside.testing.RealInfrastructure;
import io.readside.testing.TopicLimits;
import io.readside.testing.TopicReader;
import io.restassured.response.Response;
import io.vertx.core.buffer.Buffer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/** Edges a hostile tester found: a parked record its own row sent later, addAll's lists, a row changed by hand. */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class OutboxEdgesTest {

    private static final Duration WITHIN = Duration.ofSeconds(120);
    private static final String HEADER = "readside-outbox-id";

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;

    /**
     * A relay parks a refused payment request of a row of messages, then loses its session before the mark. The
     * topic is fixed before the row goes again: the row's second pass publishes the request. The parked copy must
     * not be re-sent on top (a re-sent copy has no readside-outbox-id header: the consumer cannot drop it).
     */
    @Test
    void aParkedMessageWhoseOwnRowLaterPublishesItIsNotReSentASecondTime() throws Exception {
        ownRowPublishesItThenReSend("attack-own-row-published", true);
    }

    /** The same with a row of one message (Outbox.add: a refund request, a cancel). */
    @Test
    void aParkedSingleMessageWhoseOwnRowLaterPublishesItIsNotReSentASecondTime() throws Exception {
        ownRowPublishesItThenReSend("attack-own-row-published-single", false);
    }

    private void ownRowPublishesItThenReSend(String topic, boolean rowOfMessages) throws Exception {
        TopicLimits.create(bootstrapServers, topic, "1000");
        byte[] key = utf8("order-dup");
        String payload = "{\"pad\":\"" + HexFormat.of().formatHex(bytes(8000, new Random(3))) + "\"}";
        long row;
        try (HeldRelay relay = HeldRelay.hold(pool)) {
            row = pool.withTransaction(conn -> rowOfMessages
                    ? Outbox.addAll(conn, topic, "payment.requested", List.of("order-dup"), List.of(payload), null)
                    : Outbox.add(conn, topic, "order-dup", "refund.requested", payload, null).replaceWithVoid())
                    .chain(() -> pool.query("SELECT max(id) FROM outbox WHERE topic = '" + topic + "'").execute())
                    .await().atMost(WITHIN).iterator().next().getLong(0);
            // what a relay leaves when its session ends between parking the batch's refusals and marking it
            pool.preparedQuery("""
                    INSERT INTO parked_outputs (outbox_id, record_index, topic, message_key, entity, payload, reason)
                    VALUES ($1, 0, $2, $3, NULL, $4, 'refused by the test topic')""")
                    .execute(Tuple.of(row, topic, Buffer.buffer(key), Buffer.buffer(utf8(payload))))
                    .await().atMost(WITHIN);
            // the operator fixes the topic
            TopicLimits.setMaxMessageBytes(bootstrapServers, topic, "1048588", WITHIN);
        }
        await("the row published again, now accepted").atMost(WITHIN)
                .until(() -> count("SELECT count(*) FROM outbox WHERE id = " + row + " AND published_at IS NULL") == 0);
        assertEquals(1, copies(topic, payload), "the row's own pass published the request");
        Response answer = given().post("/admin/parked-outputs/resend?topic=" + topic);
        assertEquals(200, answer.statusCode());
        await("the re-sent row published").atMost(WITHIN)
                .until(() -> count("SELECT count(*) FROM outbox WHERE topic = '" + topic
                        + "' AND published_at IS NULL") == 0);
        String body = answer.asString();
        long onTopic = copies(topic, payload);
        pool.query("DELETE FROM parked_outputs WHERE topic = '" + topic + "'").execute().await().atMost(WITHIN);
        assertEquals(1, onTopic, "the payment request on the topic once (re-send answered " + body + ")");
    }

    /** keys and payloads of different lengths: before this change every payload became a row (unnest pads). */
    @Test
    void addAllWithMorePayloadsThanKeysLosesNothingSilently() {
        String topic = "attack-lengths";
        long before = count("SELECT coalesce(max(id), 0) FROM outbox");
        Throwable failure = null;
        try {
            pool.withTransaction(conn -> Outbox.addAll(conn, topic, "payment.requested", List.of("k1"),
                    List.of("{\"n\":1}", "{\"n\":2}"), null)).await().atMost(WITHIN);
        } catch (RuntimeException e) {
            failure = e;
        }
        long messages = 0;
        for (Row row : pool.query("SELECT records FROM outbox WHERE id > " + before + " AND topic = '" + topic + "'")
                .execute().await().atMost(WITHIN)) {
            messages += OutboxRecords.decode(row.getBuffer("records").getBytes()).size();
        }
        assertTrue(failure != null || messages == 2, "two payloads given, " + messages
                + " message(s) written and no failure: a payload dropped silently");
    }

    /**
     * A row written by this process (handed to the relay) is changed by hand, to records of the same size, while the
     * relay is held. The relay must publish what the outbox holds.
     */
    @Test
    void aRowChangedByHandToTheSameSizeIsPublishedAsTheOutboxHoldsIt() throws Exception {
        String topic = "attack-hand-edit";
        TopicLimits.create(bootstrapServers, topic, null);
        long warm = pool.withTransaction(conn -> Outbox.add(conn, topic, "warm", "x", "{}", null)).await()
                .atMost(WITHIN);
        await().atMost(WITHIN).until(() -> count("SELECT count(*) FROM outbox WHERE id = " + warm
                + " AND published_at IS NULL") == 0);
        String original = "{\"amount\":\"100.00\"}";
        String fixed = "{\"amount\":\"010.00\"}";
        long row;
        try (HeldRelay relay = HeldRelay.hold(pool)) {
            row = pool.withTransaction(conn -> Outbox.addAll(conn, topic, "payment.requested", List.of("o-1"),
                    List.of(original), null)).chain(() -> pool.query("SELECT max(id) FROM outbox WHERE topic = '"
                            + topic + "'").execute())
                    .await().atMost(WITHIN).iterator().next().getLong(0);
            pool.preparedQuery("UPDATE outbox SET records = $2 WHERE id = $1")
                    .execute(Tuple.of(row, Buffer.buffer(OutboxRecords.encode(List.of(
                            new Output(topic, utf8("o-1"), utf8(fixed)))))))
                    .await().atMost(WITHIN);
        }
        await().atMost(WITHIN).until(() -> count("SELECT count(*) FROM outbox WHERE id = " + row
                + " AND published_at IS NULL") == 0);
        List<String> values = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : TopicReader.readAllRaw(bootstrapServers, topic)) {
            if (record.key() != null && new String(record.key(), StandardCharsets.UTF_8).equals("o-1")) {
                values.add(new String(record.value(), StandardCharsets.UTF_8));
            }
        }
        assertEquals(List.of(fixed), values, "the outbox row's bytes, not the bytes this process once wrote");
    }

    private long copies(String topic, String payload) {
        return TopicReader.readAllRaw(bootstrapServers, topic).stream()
                .filter(r -> r.value() != null && new String(r.value(), StandardCharsets.UTF_8).equals(payload))
                .count();
    }

    private static List<ConsumerRecord<byte[], byte[]>> sorted(List<ConsumerRecord<byte[], byte[]>> records) {
        List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>(records);
        all.sort((a, b) -> a.partition() != b.partition() ? Integer.compare(a.partition(), b.partition())
                : Long.compare(a.offset(), b.offset()));
        return all;
    }

    private long count(String sql) {
        return pool.preparedQuery(sql).execute(Tuple.tuple()).await().atMost(WITHIN).iterator().next().getLong(0);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(int n, Random random) {
        byte[] bytes = new byte[n];
        random.nextBytes(bytes);
        return bytes;
    }
}
