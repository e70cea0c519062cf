package io.readside.projection.outbox;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import jakarta.inject.Inject;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.Output;
import io.readside.testing.HeldRelay;
import io.readside.testing.RealInfrastructure;
import io.readside.testing.TopicReader;
import io.vertx.core.buffer.Buffer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The relay's pass: it takes the records of the rows this process wrote from what their transactions handed it, and
 * reads back only the others' (a row another instance wrote, or one whose id the handed row does not match), every
 * record keeping its bytes either way; messages of one type written together are one row, each sent with its row's
 * id and its place in it, and none carries an entity's state.
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class RelayRowsTest {

    private static final Duration WITHIN = Duration.ofMinutes(2);
    private static final String TOPIC = "handed-rows";
    private static final int PASS_BYTES = 8 << 20;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;

    @Test
    void theRelayReadsBackOnlyTheRecordsItWasNotHandedAndEveryRecordKeepsItsBytes() {
        List<Output> mine = outputs("mine", 3);
        List<Output> another = outputs("another", 2); // written by another instance: not handed to this one
        long mineId;
        long anotherId;
        try (HeldRelay relay = HeldRelay.hold(pool)) {
            HandedRows.WRITTEN.readThrough(null); // this process's relay made a pass just now (it did before the hold)
            pool.withTransaction(conn -> Outbox.addRecords(conn, mine, null)).await().atMost(WITHIN);
            mineId = count("SELECT max(id) FROM outbox WHERE topic = '" + TOPIC + "'");
            anotherId = pool.preparedQuery("""
                    INSERT INTO outbox (topic, event_type, records) VALUES ($1, 'records', $2) RETURNING id""")
                    .execute(Tuple.of(TOPIC, Buffer.buffer(OutboxRecords.encode(another)))).await().atMost(WITHIN)
                    .iterator().next().getLong(0);
            SqlConnection conn = pool.getConnection().await().atMost(WITHIN);
            try {
                Row stored = pool.query("SELECT created_at, xmin::text::bigint AS version,"
                        + " octet_length(records) AS bytes FROM outbox WHERE id = " + mineId).execute().await()
                        .atMost(WITHIN).iterator().next();
                Instant createdAt = stored.getOffsetDateTime("created_at").toInstant();
                int bytes = stored.getInteger("bytes");
                List<OutboxRecords.KeyValue> notMine = OutboxRecords.decode(OutboxRecords.encode(another));
                long version = stored.getLong("version");
                for (HandedRows.Handed wrong : List.of(new HandedRows.Handed(createdAt.minusSeconds(60), version,
                        bytes, notMine), new HandedRows.Handed(createdAt, version, bytes + 1, notMine),
                        new HandedRows.Handed(createdAt, version + 1, bytes, notMine))) {
                    HandedRows stale = new HandedRows(10, 1 << 20, System::nanoTime);
                    stale.readThrough(null);
                    stale.add(mineId, wrong); // as if a restored sequence gave the id again
                    RelayRows pass = RelayRows.next(conn, 5000, PASS_BYTES, stale);
                    assertEquals(records(mine), records(pass, mineId), "read from the outbox, not " + wrong);
                }

                RelayRows pass = RelayRows.next(conn, 5000, PASS_BYTES, HandedRows.WRITTEN);
                assertNull(row(pass, mineId).getValue("records"), "this process's row: its records not read back");
                assertNotNull(row(pass, anotherId).getValue("records"), "another instance's row: read");
                assertEquals(records(mine), records(pass, mineId), "the records handed over");
                assertEquals(records(another), records(pass, anotherId), "the records read");
            } finally {
                conn.close().await().atMost(WITHIN);
            }
        }
        await("both rows published").atMost(WITHIN).until(() -> count("SELECT count(*) FROM outbox WHERE id IN ("
                + mineId + ", " + anotherId + ") AND published_at IS NOT NULL") == 2);
        List<String> all = new ArrayList<>(records(mine));
        all.addAll(records(another));
        all.sort(null);
        List<String> published = TopicReader.readAllRaw(bootstrapServers, TOPIC).stream()
                .map(record -> hex(record.key()) + "=" + hex(record.value())).sorted().toList();
        assertEquals(all, published, "every record once, its bytes as written (each key once: no order to keep)");
    }

    @Test
    void messagesWrittenTogetherAreOneRowAndEachIsSentWithItsRowAndPlaceAndNoEntity() {
        String topic = "handed-messages";
        List<String> keys = List.of("o-1", "o-2", "o-1");
        List<String> payloads = List.of("{\"n\":1}", "{\"n\":2,\"\u00e9\":\"\u2603\"}", "{\"n\":3}");
        long id;
        try (HeldRelay relay = HeldRelay.hold(pool)) {
            pool.withTransaction(conn -> Outbox.addAll(conn, topic, "test.requested", keys, payloads, null))
                    .await().atMost(WITHIN);
            assertEquals(1, count("SELECT count(*) FROM outbox WHERE topic = '" + topic + "'"), "one row");
            id = count("SELECT max(id) FROM outbox WHERE topic = '" + topic + "'");
            SqlConnection conn = pool.getConnection().await().atMost(WITHIN);
            try {
                List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
                List<RelayParking.Origin> origins = new ArrayList<>();
                RelayRows pass = RelayRows.next(conn, 5000, PASS_BYTES, HandedRows.WRITTEN);
                pass.records(row(pass, id), records, origins);
                assertEquals(List.of("null false", "null false", "null false"), origins.stream()
                        .map(origin -> origin.entity() + " " + origin.supersedes()).toList(),
                        "a command: no entity's state, parked it waits for an operator, it supersedes nothing");
            } finally {
                conn.close().await().atMost(WITHIN);
            }
        }
        await("published").atMost(WITHIN).until(() -> count("SELECT count(*) FROM outbox WHERE id = " + id
                + " AND published_at IS NOT NULL") == 1);
        List<String> sent = TopicReader.readAllRaw(bootstrapServers, topic).stream()
                .filter(record -> "o-1".equals(new String(record.key(), StandardCharsets.UTF_8)))
                .map(record -> new String(record.headers().lastHeader(RelayRows.OUTBOX_ID).value(),
                        StandardCharsets.US_ASCII) + " " + new String(record.value(), StandardCharsets.UTF_8))
                .toList();
        assertEquals(List.of(id + ":0 " + payloads.get(0), id + ":2 " + payloads.get(2)), sent,
                "o-1's two, in order, each with its row and place");
        assertEquals(1, TopicReader.readAllRaw(bootstrapServers, topic).stream()
                .filter(record -> new String(record.value(), StandardCharsets.UTF_8).equals(payloads.get(1))
                        && new String(record.headers().lastHeader(RelayRows.OUTBOX_ID).value(),
                                StandardCharsets.US_ASCII).equals(id + ":1"))
                .count(), "o-2's, its bytes as written");
    }

    /** Keys and values with bytes that no text keeps: NUL, 0xFF, a lone surrogate's encoding; a null key. */
    private static List<Output> outputs(String prefix, int n) {
        List<Output> outputs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] key = i == n - 1 ? null : (prefix + "-" + i).getBytes(StandardCharsets.UTF_8);
            byte[] value = ("{\"" + prefix + "\":" + i + "}\u0000").getBytes(StandardCharsets.UTF_8);
            value[value.length - 1] = (byte) (i % 2 == 0 ? 0xFF : 0xED);
            outputs.add(new Output(TOPIC, key, value));
        }
        return outputs;
    }

    private static List<String> records(List<Output> outputs) {
        return outputs.stream().map(output -> hex(output.key()) + "=" + hex(output.value())).toList();
    }

    private static List<String> records(RelayRows pass, long id) {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        pass.records(row(pass, id), records, new ArrayList<>());
        return records.stream().map(record -> hex(record.key()) + "=" + hex(record.value())).toList();
    }

    private static Row row(RelayRows pass, long id) {
        for (Row row : pass.rows()) {
            if (row.getLong("id") == id) {
                return row;
            }
        }
        throw new AssertionError("row " + id + " is not in the relay's pass");
    }

    private static String hex(byte[] bytes) {
        return bytes == null ? "null" : HexFormat.of().formatHex(bytes);
    }

    private long count(String sql) {
        return pool.preparedQuery(sql).execute(Tuple.tuple()).await().atMost(WITHIN).iterator().next().getLong(0);
    }
}
