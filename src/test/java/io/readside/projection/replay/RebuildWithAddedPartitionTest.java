package io.readside.projection.replay;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.hamcrest.Matchers.oneOf;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.OwnTopicsInfrastructure;
import io.readside.testing.TestProducer;
import io.readside.testing.TopicReader;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * Issue 22, item 4: a partition added to the topic while a rebuild replays it is part of the switch. Its first record,
 * applied live meanwhile, is in the rebuilt read model, and the switch does not fail on a position it never replayed.
 */
@QuarkusTest
@TestProfile(OwnTopicsInfrastructure.class)
class RebuildWithAddedPartitionTest {

    private static final Duration APPLIED = Duration.ofSeconds(90);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;

    @Test
    void aPartitionAddedWhileARebuildReplaysKeepsItsFirstRecordAtTheSwitch() throws Exception {
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", 0, "rp-1", order("rp-1"));
        }
        await().atMost(APPLIED).untilAsserted(() -> given().get("/orders/rp-1").then().statusCode(200));

        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            // the rebuild request then answers without reading the orders table this test holds (no history lost)
            assertEquals(0L, TopicReader.logStarts(admin, "orders").values().stream().mapToLong(Long::longValue)
                    .sum(), "no test of this profile deletes records of orders");
        }
        // one rebuild at a time: another test's may still run
        for (String readModel : List.of("orders", "users")) {
            await().atMost(APPLIED).until(() -> {
                var status = given().get("/admin/rebuilds/" + readModel).then().extract();
                return status.statusCode() == 404 || List.of("DONE", "FAILED").contains(status.path("state"));
            });
        }
        int added;
        SqlConnection holder = pool.getConnection().await().atMost(APPLIED);
        try {
            // the live orders table held: the rebuild replays, then waits before its switch (its carry-over reads
            // the live table), and so does every live writer of orders
            holder.query("BEGIN").execute().await().atMost(APPLIED);
            holder.query("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE").execute().await().atMost(APPLIED);
            given().post("/admin/rebuilds/orders").then().statusCode(202);
            await().atMost(APPLIED).until(() -> readsWaitingForTheLiveOrdersTable() >= 1); // the rebuild's carry-over

            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
                int partitions = admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders")
                        .partitions().size();
                admin.createPartitions(Map.of("orders", NewPartitions.increaseTo(partitions + 1))).all().get();
                added = partitions;
            }
            try (TestProducer producer = new TestProducer(bootstrapServers)) {
                producer.send("orders", added, "rp-new", order("rp-new"));
            }
            // the live consumer found the new partition and its writer waits on the table too, its position claimed
            await().atMost(APPLIED).until(() -> writersWaitingForTheLiveOrdersTable() >= 1);
        } finally {
            holder.query("ROLLBACK").execute().await().atMost(APPLIED);
            holder.close().await().atMost(APPLIED);
        }

        await().atMost(APPLIED).untilAsserted(() -> given().get("/admin/rebuilds/orders").then()
                .body("state", oneOf("DONE", "FAILED")));
        given().get("/admin/rebuilds/orders").then().body("state", equalTo("DONE"));
        await().atMost(APPLIED).untilAsserted(() -> given().get("/orders/rp-new").then().statusCode(200));
        given().get("/orders/rp-1").then().statusCode(200);
    }

    /** Lock requests on the live orders table not granted yet, of a read (the rebuild's carry-over). */
    private long readsWaitingForTheLiveOrdersTable() {
        return count("SELECT count(*) FROM pg_locks WHERE relation = 'orders'::regclass AND NOT granted "
                + "AND mode = 'AccessShareLock'");
    }

    /** ... of a live writer, which has claimed its positions in its transaction. */
    private long writersWaitingForTheLiveOrdersTable() {
        return count("""
                SELECT count(*) FROM pg_locks w WHERE w.relation = 'orders'::regclass AND NOT w.granted
                   AND EXISTS (SELECT 1 FROM pg_locks p WHERE p.pid = w.pid AND p.granted
                                AND p.relation = 'projection_positions'::regclass)""");
    }

    private long count(String sql) {
        return pool.query(sql).execute().await().atMost(APPLIED).iterator().next().getLong(0);
    }

    private static String order(String id) {
        return "{\"order_id\":\"" + id + "\",\"user_id\":6301,\"category\":\"rebuilt\",\"total\":5,"
                + "\"timestamp\":1764230000}";
    }
}
