package io.readside.projection.outbox;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.orders.OrdersProjector;
import io.readside.projection.Output;
import io.readside.revenue.RevenueByCategory;
import io.readside.testing.HeldRelay;
import io.readside.testing.Management;
import io.readside.testing.RealInfrastructure;
import io.readside.testing.TopicLimits;
import io.readside.testing.TestProducer;
import io.readside.testing.TopicReader;
import io.restassured.response.Response;
import io.vertx.core.buffer.Buffer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Transaction;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * An output topic that refuses Readside's records for good (issue 21: a topic whose {@code max.message.bytes} is
 * smaller than a processed order; an ACL would do the same) never stops the input: the orders are applied, the other
 * outputs are published, the refused records are parked with their bytes, counted, and reported by the wellness
 * check, while readiness stays UP. Once the topic is fixed, the operator's re-send delivers each parked record once,
 * except one whose order had a later version published meanwhile (it would move the order backwards).
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class RefusedOutputsEndToEndTest {

    private static final Duration WITHIN = Duration.ofSeconds(90);
    private static final long T = java.time.Instant.now().getEpochSecond();

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;

    @Test
    void aRefusedOutputIsParkedWhileOrdersFlowAndIsDeliveredOnceAfterTheTopicIsFixed() throws Exception {
        refuseLargerThan(100);
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", "park-1", order("park-1", "park-a", "1.00", T));
            producer.send("orders", "park-2", order("park-2", "park-b", "2.00", T));
            producer.send("orders", "park-3", order("park-3", "park-c", "3.00", T));
            producer.send("orders", "park-3", order("park-3", "park-c", "3.50", T)); // a correction, refused too
        }
        await("the orders are applied and their processed records parked").atMost(WITHIN).until(
                () -> count("SELECT count(*) FROM orders WHERE order_id LIKE 'park-%' AND total > 0") == 3
                        && waiting("park-%") == 4);
        given().get("/orders/park-3").then().statusCode(200).body("total", equalTo(3.5f));
        await("the other outputs go on").atMost(WITHIN).until(() -> published(RevenueByCategory.REVENUE_BY_CATEGORY,
                "park-c") > 0);
        assertEquals(0, published(OrdersProjector.PROCESSED_ORDERS, "park-1"));
        assertEquals(List.of("RecordTooLargeException"), pool.query("""
                SELECT DISTINCT split_part(reason, ':', 1) FROM parked_outputs
                 WHERE convert_from(message_key, 'UTF8') LIKE 'park-%'""").execute().await().atMost(WITHIN).stream()
                .map(row -> row.getString(0)).toList(), "the reason is kept");
        await("counted and reported").atMost(WITHIN).untilAsserted(() -> {
            assertTrue(metric("readside_outputs_parked_waiting") >= 4);
            assertTrue(metric("readside_outputs_parked_total{topic=\"processed-orders\"}") >= 4);
            Management.given().get("/q/health/well").then().statusCode(503)
                    .body("checks.find { it.name == 'readside-outputs' }.status", equalTo("DOWN"));
        });
        Management.given().get("/q/health/ready").then().statusCode(200);

        refuseLargerThan(1_048_588); // fixed
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", "park-2", order("park-2", "park-b", "2.50", T)); // published: supersedes v1
        }
        await("the new version is published").atMost(WITHIN)
                .until(() -> published(OrdersProjector.PROCESSED_ORDERS, "park-2") == 1);
        await("park-2's parked version is superseded").atMost(WITHIN).until(() -> count("""
                SELECT count(*) FROM parked_outputs WHERE convert_from(message_key, 'UTF8') = 'park-2'
                   AND superseded_at IS NOT NULL""") == 1);

        given().post("/admin/parked-outputs/resend?topic=processed-orders").then().statusCode(200)
                .body("resent", equalTo(3)).body("superseded", equalTo(1)).body("remaining", equalTo(0));
        await("each parked record delivered once").atMost(WITHIN).until(
                () -> published(OrdersProjector.PROCESSED_ORDERS, "park-1") == 1
                        && published(OrdersProjector.PROCESSED_ORDERS, "park-3") == 2);
        // every record of the re-sent row is on the broker once the row is marked, a wrongly re-sent park-2 too
        await("the re-sent row is marked").atMost(WITHIN)
                .until(() -> count("SELECT count(*) FROM outbox WHERE event_type = 'resent' AND published_at IS NULL")
                        == 0);
        assertEquals(1, published(OrdersProjector.PROCESSED_ORDERS, "park-2"), "the superseded version is not sent");
        assertTrue(lastProcessed("park-3").contains("\"total\":3.50"), "park-3 ends at its latest version");
        await("nothing waits").atMost(WITHIN).untilAsserted(() -> {
            assertEquals(0.0, metric("readside_outputs_parked_waiting"));
            Management.given().get("/q/health/well").then().statusCode(200);
        });
        given().post("/admin/parked-outputs/resend").then().statusCode(200).body("resent", equalTo(0));
        given().get("/admin/parked-outputs?topic=processed-orders").then().statusCode(200)
                .body("findAll { it.key == 'park-1' }.size()", equalTo(1));
        given().post("/admin/parked-outputs/resend?topic=no%20such").then().statusCode(400);
    }

    @Test
    void anUnreadableOutboxRowIsParkedWholeAndTheRelayGoesOn() throws Exception {
        long garbage = pool.query("""
                INSERT INTO outbox (topic, event_type, records) VALUES ('processed-orders', 'records', '\\x00000005')
                RETURNING id""").execute().await().atMost(WITHIN).iterator().next().getLong(0);
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", "unread-1", order("unread-1", "unread-a", "1.00", T));
        }
        await("the next outputs are published").atMost(WITHIN)
                .until(() -> published(OrdersProjector.PROCESSED_ORDERS, "unread-1") == 1);
        // on the broker before it is parked and marked (a batch is parked and marked once its sends are acknowledged)
        await("the row is marked").atMost(WITHIN).until(() -> count("SELECT count(*) FROM outbox WHERE id = "
                + garbage + " AND published_at IS NOT NULL") == 1);
        assertEquals(1, count("SELECT count(*) FROM parked_outputs WHERE outbox_id = " + garbage
                + " AND record_index = -1 AND superseded_at IS NOT NULL AND reason LIKE 'undecodable outbox row%'"),
                "the row is parked whole, not re-sendable");
        given().post("/admin/parked-outputs/resend?topic=processed-orders").then().statusCode(200)
                .body("resent", equalTo(0)).body("superseded", equalTo(1));
        assertEquals(1, published(OrdersProjector.PROCESSED_ORDERS, "unread-1"));
    }

    @Test
    void aParkedCommandIsNotSupersededByALaterMessageWithItsKeyAndIsReSent() {
        // a command or an event is not an entity's state: a later message with the same key (the order's cancel after
        // its refused creation) does not make it obsolete, and the re-send must not drop it
        long parked = pool.query("""
                INSERT INTO parked_outputs (outbox_id, record_index, topic, message_key, payload, reason)
                VALUES (-424242, 0, 'parked-commands', convert_to('cmd-1', 'UTF8'),
                        convert_to('{"created":true}', 'UTF8'), 'RecordTooLargeException: test')
                RETURNING id""").execute().await().atMost(WITHIN).iterator().next().getLong(0);
        long later = pool.query("""
                INSERT INTO outbox (topic, message_key, event_type, payload)
                VALUES ('parked-commands', 'cmd-1', 'test.cancelled', '{"cancelled":true}') RETURNING id""")
                .execute().await().atMost(WITHIN).iterator().next().getLong(0);
        await("the later message published").atMost(WITHIN)
                .until(() -> count("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL AND id = " + later) == 1);
        assertEquals(0, count("SELECT count(*) FROM parked_outputs WHERE superseded_at IS NOT NULL AND id = " + parked),
                "not superseded by a message");
        given().post("/admin/parked-outputs/resend?topic=parked-commands").then().statusCode(200)
                .body("resent", equalTo(1)).body("superseded", equalTo(0));
        await("re-sent after the later message").atMost(WITHIN)
                .until(() -> published("parked-commands", "cmd-1") == 2);
    }

    @Test
    void aReSendWaitsForAnOutboxWriteInFlightSoThatItCannotMoveAnEntityBackwards() throws Exception {
        // v1 of race-1 is parked; v2 is being written to the outbox by a transaction that has not committed yet
        long parked = pool.query("""
                INSERT INTO parked_outputs (outbox_id, record_index, topic, message_key, entity, payload, reason)
                VALUES (-434343, 0, 'parked-race', convert_to('race-1', 'UTF8'), convert_to('race-1', 'UTF8'),
                        convert_to('v1', 'UTF8'), 'RecordTooLargeException: test')
                RETURNING id""").execute().await().atMost(WITHIN).iterator().next().getLong(0);
        SqlConnection writer = pool.getConnection().await().atMost(WITHIN);
        try {
            Transaction inFlight = writer.begin().await().atMost(WITHIN);
            Outbox.addRecords(writer, List.of(new Output("parked-race", bytes("race-1"), bytes("v2"))), null).await()
                    .atMost(WITHIN);
            CompletableFuture<Response> resend = CompletableFuture.supplyAsync(
                    () -> given().post("/admin/parked-outputs/resend?topic=parked-race"));
            await("the re-send waits for the write in flight (or, wrongly, answers at once)").atMost(WITHIN)
                    .until(() -> resend.isDone() || count("""
                            SELECT count(*) FROM pg_stat_activity
                             WHERE wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE outbox%'""") == 1);
            inFlight.commit().await().atMost(WITHIN);
            resend.get(WITHIN.toSeconds(), TimeUnit.SECONDS).then().statusCode(200)
                    .body("resent", equalTo(0)).body("superseded", equalTo(1));
        } finally {
            writer.close().await().atMost(WITHIN);
        }
        await("v2 published").atMost(WITHIN).until(() -> published("parked-race", "race-1") >= 1);
        assertEquals(List.of("v2"), TopicReader.readAll(bootstrapServers, "parked-race").stream()
                .filter(r -> "race-1".equals(r.key())).map(ConsumerRecord::value).toList(), "v1 is not sent after v2");
        assertEquals(0, count("SELECT count(*) FROM parked_outputs WHERE resent_at IS NULL AND id = " + parked));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void aReSendWhileTheRelayHoldsItsLockAnswers409AndChangesNothing() {
        // a parked command waiting (a command has no entity: nothing supersedes it), which a re-send would take
        long waiting = pool.preparedQuery("""
                INSERT INTO parked_outputs (outbox_id, record_index, topic, message_key, payload, reason)
                VALUES (-740, 0, 'payment-requests', '\\x6b'::bytea, '\\x7b7d'::bytea, 'held by the test')
                RETURNING id""").execute(Tuple.tuple()).await().atMost(WITHIN).iterator().next().getLong(0);
        try {
            try (HeldRelay relay = HeldRelay.hold(pool)) {
                String before = parkedRows() + "|" + count("SELECT count(*) FROM outbox");
                // the tests' readside.outputs.resend-waits-for-relay (application.properties)
                given().post("/admin/parked-outputs/resend").then().statusCode(409)
                        .contentType("application/problem+json")
                        .body("detail", containsString("kept its lock for 5000 ms"));
                assertEquals(before, parkedRows() + "|" + count("SELECT count(*) FROM outbox"),
                        "nothing re-sent, nothing marked, nothing added to the outbox");
            }
            assertEquals(1, count("SELECT count(*) FROM parked_outputs WHERE id = " + waiting
                    + " AND resent_at IS NULL AND superseded_at IS NULL"), "the parked command still waits");
        } finally { // the other tests count what a re-send takes
            assertEquals(1, count("WITH d AS (DELETE FROM parked_outputs WHERE id = " + waiting
                    + " RETURNING 1) SELECT count(*) FROM d"));
        }
    }

    /**
     * A re-send holds what it takes in memory at once: parked records of up to a MiB each (refused for their size)
     * are taken by bytes as well as by count, the rest stay waiting for the next re-send, and each is delivered once.
     */
    @Test
    void aReSendTakesParkedRecordsUpToItsBytesAndTheNextOneTheRest() {
        int records = 40;
        String pad = "x".repeat(256 * 1024);
        for (int i = 0; i < records; i++) {
            pool.preparedQuery("""
                    INSERT INTO parked_outputs (outbox_id, record_index, topic, message_key, payload, reason)
                    VALUES (-741, $1, 'refund-requests', $2, $3, 'parked by the test')""")
                    .execute(Tuple.of(i, Buffer.buffer(bytes("budget-" + i)),
                            Buffer.buffer(bytes("{\"order_id\":\"budget-" + i + "\",\"pad\":\"" + pad + "\"}"))))
                    .await().atMost(WITHIN);
        }
        // in id order, while the bytes taken before a record are below the budget
        long taken = 0;
        long before = 0;
        for (int i = 0; i < records && before < ParkedOutputs.RESEND_AT_MOST_BYTES; i++) {
            before += bytes("budget-" + i).length + bytes("{\"order_id\":\"budget-" + i + "\",\"pad\":\"" + pad
                    + "\"}").length;
            taken++;
        }
        assertTrue(taken > 1 && taken < records, "the test's records exceed one re-send's bytes: " + taken);

        given().post("/admin/parked-outputs/resend?topic=refund-requests").then().statusCode(200)
                .body("resent", equalTo((int) taken)).body("remaining", equalTo((int) (records - taken)));
        given().post("/admin/parked-outputs/resend?topic=refund-requests").then().statusCode(200)
                .body("resent", equalTo((int) (records - taken))).body("remaining", equalTo(0));
        await("each delivered once").atMost(WITHIN).until(() -> TopicReader.readAll(bootstrapServers,
                "refund-requests").stream().filter(r -> r.key().startsWith("budget-")).count() == records);
        assertEquals(records, TopicReader.readAll(bootstrapServers, "refund-requests").stream()
                .filter(r -> r.key().startsWith("budget-")).map(ConsumerRecord::key).distinct().count());
    }

    private void refuseLargerThan(int bytes) throws Exception {
        TopicLimits.create(bootstrapServers, OrdersProjector.PROCESSED_ORDERS, null);
        TopicLimits.setMaxMessageBytes(bootstrapServers, OrdersProjector.PROCESSED_ORDERS, Integer.toString(bytes),
                WITHIN);
    }

    private long waiting(String keys) {
        return count("SELECT count(*) FROM parked_outputs WHERE resent_at IS NULL AND topic = 'processed-orders'"
                + " AND convert_from(message_key, 'UTF8') LIKE '" + keys + "'");
    }

    private String parkedRows() {
        return pool.preparedQuery("SELECT coalesce(string_agg(id || ':' || coalesce(resent_at::text, '-') || ':'"
                + " || coalesce(superseded_at::text, '-'), ',' ORDER BY id), '') FROM parked_outputs")
                .execute(Tuple.tuple()).await().atMost(WITHIN).iterator().next().getString(0);
    }

    private long count(String sql) {
        return pool.preparedQuery(sql).execute(Tuple.tuple()).await().atMost(WITHIN).iterator().next().getLong(0);
    }

    private long published(String topic, String key) {
        return TopicReader.readAll(bootstrapServers, topic).stream().filter(r -> key.equals(r.key())).count();
    }

    private String lastProcessed(String key) {
        List<ConsumerRecord<String, String>> all = TopicReader.readAll(bootstrapServers,
                OrdersProjector.PROCESSED_ORDERS).stream().filter(r -> key.equals(r.key())).toList();
        return all.get(all.size() - 1).value();
    }

    private static double metric(String name) {
        for (String line : Management.given().get("/q/metrics").asString().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim().split("\\s+")[0]); // no exemplar
            }
        }
        return 0;
    }

    private static String order(String id, String category, String total, long timestamp) {
        return "{\"order_id\":\"" + id + "\",\"user_id\":77,\"category\":\"" + category + "\",\"total\":" + total
                + ",\"timestamp\":" + timestamp + "}";
    }
}
