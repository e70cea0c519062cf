package io.readside.projection;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.orders.OrdersProjector;
import io.readside.testing.GuideEvents;
import io.readside.testing.OwnTopicsInfrastructure;
import io.readside.testing.TestProducer;
import io.readside.testing.TopicReader;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgException;

/**
 * Positions and the broker (issue 22, items 7-9): a stored position behind where the consumer is (a database restored
 * from a backup, positions unreadable at assignment) never skips records silently; what retention deleted before it
 * was applied is counted; and the broker is asked whether the log is still the positions' one for every record below
 * them, parsed or not, and never while the position rows are locked.
 */
@QuarkusTest
@TestProfile(OwnTopicsInfrastructure.class)
class PositionGapsEndToEndTest {

    private static final Duration APPLIED = Duration.ofSeconds(90);
    private static final String GROUP = "readside";

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;
    @Inject
    LogGuard guard;
    @Inject
    OrdersProjector orders;
    @Inject
    MeterRegistry registry;

    @Test
    void aPositionRestoredToAnEarlierOffsetIsFilledFromTheBrokerNotSkipped() {
        int partition = 1;
        RecordMetadata second;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", partition, "gap-1", order("gap-1", 10));
            second = producer.send("orders", partition, "gap-2", order("gap-2", 20));
        }
        await().atMost(APPLIED).untilAsserted(() -> given().get("/orders/gap-2").then().statusCode(200));
        double filledBefore = counted("readside_position_gap_records_applied", "orders");

        // the database restored from a backup taken before gap-2 was applied: its row and position are not there
        sql("DELETE FROM orders WHERE order_id = 'gap-2'");
        sql("UPDATE projection_positions SET next_offset = " + second.offset() + " WHERE consumer_group = '" + GROUP
                + "' AND topic = 'orders' AND kafka_partition = " + partition);
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", partition, "gap-3", order("gap-3", 30));
        }

        await().atMost(APPLIED).untilAsserted(() -> given().get("/orders/gap-3").then().statusCode(200));
        given().get("/orders/gap-2").then().statusCode(200);
        assertEquals(filledBefore + 1,
                counted("readside_position_gap_records_applied", "orders"),
                "gap-2 was read from the broker and applied, and counted");
    }

    /** On user-events: the orders topic of this profile keeps its log start at 0 (RebuildWithAddedPartitionTest). */
    @Test
    void recordsDeletedBeforeTheyWereAppliedAreCountedWithTheGapsSize() throws Exception {
        int partition = 1;
        RecordMetadata first;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            first = producer.send("user-events", partition, "6211", signup(6211));
            producer.send("user-events", partition, "6212", signup(6212));
        }
        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/6212").then().statusCode(200));
        double deletedBefore = counted("readside_offsets_deleted_before_applied", "user-events");

        // restored to before both signups, whose records retention then deleted
        sql("DELETE FROM users WHERE user_id IN (6211, 6212)");
        sql("UPDATE projection_positions SET next_offset = " + first.offset() + " WHERE consumer_group = '" + GROUP
                + "' AND topic = 'user-events' AND kafka_partition = " + partition);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            admin.deleteRecords(Map.of(new TopicPartition("user-events", partition),
                    RecordsToDelete.beforeOffset(first.offset() + 2))).all().get();
        }
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("user-events", partition, "6213", signup(6213));
        }

        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/6213").then().statusCode(200));
        await().atMost(APPLIED).untilAsserted(() -> assertEquals(deletedBefore + 2,
                counted("readside_offsets_deleted_before_applied", "user-events")));
        given().get("/users/6211").then().statusCode(404);
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("user-events", partition, "6214", signup(6214));
        }
        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/6214").then().statusCode(200));
        assertEquals(deletedBefore + 2, counted("readside_offsets_deleted_before_applied", "user-events"),
                "counted once");
    }

    /**
     * A database restored from a backup taken before a partition had a position (or emptied), while Kafka's committed
     * offset is past its records: at the next assignment the partition is applied again from its log start, not
     * resumed at Kafka's offset.
     */
    @Test
    void aPartitionWithCommittedOffsetsButNoStoredPositionIsReadFromItsLogStartNotSkipped() throws Exception {
        int partition = 2;
        RecordMetadata last;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("user-events", partition, "6221", signup(6221));
            producer.send("user-events", partition, "6222", signup(6222));
            last = producer.send("user-events", partition, "6223", signup(6223));
        }
        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/6223").then().statusCode(200));
        awaitCommittedPast(last);

        // the database as a backup taken before the partition had a position: neither the users nor the row
        sql("DELETE FROM users WHERE user_id IN (6221, 6222, 6223)");
        sql("DELETE FROM projection_positions WHERE consumer_group = '" + GROUP
                + "' AND topic = 'user-events' AND kafka_partition = " + partition);
        rebalance();
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("user-events", partition, "6224", signup(6224));
        }

        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/6224").then().statusCode(200));
        for (int user = 6221; user <= 6223; user++) {
            given().get("/users/" + user).then().statusCode(200);
        }
        assertTrue(position("user-events", partition) > last.offset(), "the partition has its position again");
    }

    /** Until Kafka's committed offset of group readside is past the record (commits follow the database's). */
    private void awaitCommittedPast(RecordMetadata record) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            await().atMost(APPLIED).until(() -> {
                OffsetAndMetadata committed = admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata()
                        .get().get(partition);
                return committed != null && committed.offset() > record.offset();
            });
        }
    }

    /**
     * A member joins group readside and leaves: every partition of the group is assigned again (the eager range
     * assignor of both), so the projectors' consumers place themselves anew.
     */
    private void rebalance() {
        try (KafkaConsumer<byte[], byte[]> member = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers, ConsumerConfig.GROUP_ID_CONFIG, GROUP,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            member.subscribe(List.of("user-events"));
            await().atMost(APPLIED).until(() -> {
                member.poll(Duration.ofMillis(200));
                return !member.assignment().isEmpty();
            });
        }
    }

    /** Items 8 and 9: every broker question of a batch's log check, and whether the positions were locked then. */
    @Test
    void everyRecordBelowThePositionParsedOrNotIsConfirmedWithTheBrokerOutsideTheTransaction() {
        int partition = 0;
        RecordMetadata valid;
        RecordMetadata garbage;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            valid = producer.send("orders", partition, "conf-1", order("conf-1", 10));
            garbage = producer.sendInvalidOnPurpose("orders", partition, "conf-x".getBytes(StandardCharsets.UTF_8),
                    "not json".getBytes(StandardCharsets.UTF_8));
        }
        await().atMost(APPLIED).until(() -> position(partition) > garbage.offset());
        List<ConsumerRecord<byte[], byte[]>> redelivered = TopicReader.readRange(bootstrapServers, "orders",
                partition, valid.offset(), garbage.offset() + 1);
        assertEquals(2, redelivered.size());

        List<String> lockedWhileAsked = new CopyOnWriteArrayList<>();
        List<String> confirmedOn = new CopyOnWriteArrayList<>();
        TopicLogs before = guard.askThrough(new TopicLogs(bootstrapServers, Duration.ofSeconds(3)) {
            @Override
            ObservedLog describe(String topic) throws java.util.concurrent.ExecutionException,
                    java.util.concurrent.TimeoutException, InterruptedException {
                if (askedByConfirm()) {
                    lockedWhileAsked.add(locked(partition));
                    confirmedOn.add(Thread.currentThread().getName());
                }
                return super.describe(topic);
            }
        });
        try {
            orders.apply(redelivered.get(0)).await().atMost(APPLIED);
            assertFalse(lockedWhileAsked.isEmpty(), "a parsed record below the position is confirmed");
            assertEquals(List.of(), lockedWhileAsked.stream().filter(each -> !each.equals("free")).toList(),
                    "never while the position rows are locked");

            lockedWhileAsked.clear();
            orders.apply(redelivered.get(1)).await().atMost(APPLIED);
            assertFalse(lockedWhileAsked.isEmpty(), "an unparseable record below the position is confirmed too");
            assertEquals(List.of(), lockedWhileAsked.stream().filter(each -> !each.equals("free")).toList(),
                    "never while the position rows are locked");
            assertEquals(List.of(), confirmedOn.stream().filter(name -> !name.equals("readside-log-guard")).toList(),
                    "confirmed on the guard's own threads, never on the worker pool that serves requests");
        } finally {
            guard.askThrough(before);
        }
    }

    private double counted(String counter, String topic) {
        Counter found = registry.find(counter).tag("topic", topic).counter();
        return found == null ? 0 : found.count();
    }

    private static boolean askedByConfirm() {
        return StackWalker.getInstance().walk(frames -> frames.anyMatch(
                frame -> frame.getClassName().equals(LogGuard.class.getName())
                        && frame.getMethodName().contains("confirm")));
    }

    /** "free", "locked" (FOR UPDATE NOWAIT fails with 55P03) or what else went wrong: never throws (a broker call). */
    private String locked(int partition) {
        SqlConnection conn = pool.getConnection().await().atMost(APPLIED);
        try {
            conn.query("BEGIN").execute().await().atMost(APPLIED);
            conn.preparedQuery("SELECT 1 FROM projection_positions WHERE consumer_group = $1 AND topic = 'orders' "
                    + "AND kafka_partition = $2 FOR UPDATE NOWAIT").execute(Tuple.of(GROUP, partition)).await()
                    .atMost(APPLIED);
            return "free";
        } catch (PgException e) {
            return "55P03".equals(e.getSqlState()) ? "locked" : e.getMessage();
        } catch (RuntimeException e) {
            return e.toString();
        } finally {
            conn.query("ROLLBACK").execute().await().atMost(APPLIED);
            conn.close().await().atMost(APPLIED);
        }
    }

    private long position(int partition) {
        return position("orders", partition);
    }

    private long position(String topic, int partition) {
        var rows = pool.preparedQuery("SELECT next_offset FROM projection_positions WHERE consumer_group = $1 AND "
                + "topic = $2 AND kafka_partition = $3").execute(Tuple.of(GROUP, topic, partition)).await()
                .atMost(APPLIED);
        return rows.size() == 0 ? -1 : rows.iterator().next().getLong(0);
    }

    private void sql(String statement) {
        pool.query(statement).execute().await().atMost(APPLIED);
    }

    private static String signup(int user) {
        return GuideEvents.signup(user, user, "u" + user + "@example.com", "1764230000");
    }

    private static String order(String id, int total) {
        return "{\"order_id\":\"" + id + "\",\"user_id\":6201,\"category\":\"gaps\",\"total\":" + total
                + ",\"timestamp\":1764230000}";
    }
}
