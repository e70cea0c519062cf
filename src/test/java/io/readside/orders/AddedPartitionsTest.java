package io.readside.orders;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Map;

import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.OutboxMessages;
import io.readside.testing.OwnTopicsInfrastructure;
import io.readside.testing.TestProducer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Partitions added to a running topic: their records are applied within seconds, and once keys hash differently,
 * two versions of one order on two partitions are applied one after the other, never both as "the first".
 */
@QuarkusTest
@TestProfile(OwnTopicsInfrastructure.class)
class AddedPartitionsTest {

    private static final Duration APPLIED = Duration.ofSeconds(60);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;

    @Test
    void aRecordOnAnAddedPartitionIsAppliedWithinSeconds() throws Exception {
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", 0, "ap-0", order("ap-0", 6201, "1.00")); // the topic exists and is consumed
        }
        await().atMost(APPLIED).untilAsserted(() -> given().get("/orders/ap-0").then().statusCode(200));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            admin.createPartitions(Map.of("orders", NewPartitions.increaseTo(6))).all().get();
        }
        long start = System.nanoTime();
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", 5, "ap-5", order("ap-5", 6201, "1.00"));
        }
        await().atMost(APPLIED).untilAsserted(() -> given().get("/orders/ap-5").then().statusCode(200));
        // a figure for docs/guarantees.md, not an assertion: the consumers refresh their metadata every 10 s
        System.out.printf("a record on an added partition was applied %d ms after it was sent%n",
                (System.nanoTime() - start) / 1_000_000);
    }

    @Test
    void twoVersionsOfOneNewOrderOnTwoPartitionsAreAppliedOneAfterTheOther() throws Exception {
        // the lock every applying transaction takes for the order id, held by the test
        SqlConnection holder = pool.getConnection().await().atMost(APPLIED);
        holder.query("BEGIN").execute().await().atMost(APPLIED);
        holder.preparedQuery("SELECT pg_advisory_xact_lock($2, hashtext($1))")
                .execute(Tuple.of("ap-x", OrdersProjector.ORDER_LOCKS))
                .await().atMost(APPLIED);
        try (TestProducer producer = new TestProducer(bootstrapServers)) { // keys that hashed apart
            producer.send("orders", 1, "ap-x", order("ap-x", 6202, "10.00"));
            producer.send("orders", 2, "ap-x", order("ap-x", 6202, "15.00"));
        }

        // while the order's lock is held, no version is applied: none can see "no previous version" beside another
        await().during(Duration.ofSeconds(3)).atMost(APPLIED)
                .until(() -> count("SELECT count(*) FROM orders WHERE order_id = 'ap-x'") == 0);
        holder.query("COMMIT").execute().await().atMost(APPLIED);
        holder.close().await().atMost(APPLIED);
        await().atMost(APPLIED).until(() -> count("SELECT count(*) FROM projection_positions WHERE topic = 'orders'"
                + " AND kafka_partition IN (1, 2) AND next_offset > 0") == 2
                && count("SELECT count(*) FROM orders WHERE order_id = 'ap-x'") == 1);

        // counted once: the user's totals hold one order, of whichever version committed last
        String total = pool.query("SELECT total::text FROM orders WHERE order_id = 'ap-x'").execute()
                .await().atMost(APPLIED).iterator().next().getString(0);
        await().atMost(APPLIED).until(() -> pool.query("SELECT order_count || '|' || total_spent FROM "
                + "user_order_totals WHERE user_id = 6202").execute().await().atMost(APPLIED).iterator().next()
                .getString(0).equals("1|" + total));
        assertEquals(1L, OutboxMessages.byKey(pool, "payment-requests", "payment.requested").get("ap-x"),
                "one payment request");
    }

    private long count(String sql) {
        return pool.query(sql).execute().await().atMost(APPLIED).iterator().next().getLong(0);
    }

    private static String order(String id, long userId, String total) {
        return "{\"order_id\":\"" + id + "\",\"user_id\":" + userId + ",\"category\":\"books\",\"total\":" + total
                + ",\"timestamp\":1764230000}";
    }
}
