package io.readside.revenue;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.OwnTopicsInfrastructure;
import io.readside.testing.TestProducer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;

/**
 * Issue 22, item 2: a correction that arrives on another partition than the version that counted it (its key hashes
 * elsewhere once partitions are added) is judged by the clock of the partition that counted it, so a window that
 * clock closed stays as it was and the correction is counted as late.
 */
@QuarkusTest
@TestProfile(OwnTopicsInfrastructure.class)
class CorrectionOnAnotherPartitionTest {

    private static final Duration APPLIED = Duration.ofSeconds(90);
    private static final long T = 1_764_000_000L; // a window start (a multiple of 60 s)

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;
    @Inject
    MeterRegistry registry;

    @Test
    void aCorrectionOnAnotherPartitionDoesNotReopenAWindowTheCountingPartitionsClockClosed() throws Exception {
        int counting;
        int other;
        try (TestProducer producer = new TestProducer(bootstrapServers)) { // the topic exists (auto-created)
            producer.send("orders", "xp-0", order("xp-0", "1.00", T - 600).replace("xpart", "xpart-seed"));
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            // two partitions of their own, whose clocks only this test moves
            int partitions = await().atMost(APPLIED).ignoreExceptions().until(() -> admin
                    .describeTopics(List.of("orders")).allTopicNames().get().get("orders").partitions().size(),
                    n -> n > 0);
            admin.createPartitions(Map.of("orders", NewPartitions.increaseTo(partitions + 2))).all().get();
            counting = partitions;
            other = partitions + 1;
        }
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", counting, "xp-1", order("xp-1", "10.00", T + 10));
            // moves the counting partition's stream time 10 minutes on: xp-1's window is past its grace there
            producer.send("orders", counting, "xp-2", order("xp-2", "1.00", T + 600));
        }
        await().atMost(APPLIED).until(() -> window(T) != null && window(T + 600) != null);
        assertEquals("10.00|1", window(T));
        double lateBefore = registry.counter("readside.orders.late").count();

        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", other, "xp-1", order("xp-1", "15.00", T + 10)); // the correction
        }
        await().atMost(APPLIED).until(() -> total("xp-1").compareTo(new BigDecimal("15.00")) == 0);

        assertEquals("10.00|1", window(T), "the window the counting partition closed keeps what it counted");
        // counted after the commit: waited for, not read at once
        await().atMost(APPLIED).until(() -> registry.counter("readside.orders.late").count() >= lateBefore + 1);
        assertEquals(lateBefore + 1, registry.counter("readside.orders.late").count(), "the correction came late");
        assertEquals(counting, pool.query("SELECT counted_partition FROM revenue_contributions WHERE order_id = "
                + "'xp-1'").execute().await().atMost(APPLIED).iterator().next().getInteger(0),
                "still counted by the partition whose clock closed its window");
    }

    private String window(long start) {
        var rows = pool.query("SELECT revenue, order_count FROM revenue_windows WHERE category = 'xpart' AND "
                + "window_start = to_timestamp(" + start + ")").execute().await().atMost(APPLIED);
        if (rows.size() == 0) {
            return null;
        }
        Row row = rows.iterator().next();
        return row.getBigDecimal(0).setScale(2).toPlainString() + "|" + row.getInteger(1);
    }

    private BigDecimal total(String orderId) {
        var rows = pool.preparedQuery("SELECT total FROM orders WHERE order_id = $1")
                .execute(io.vertx.mutiny.sqlclient.Tuple.of(orderId)).await().atMost(APPLIED);
        return rows.size() == 0 ? BigDecimal.ZERO : rows.iterator().next().getBigDecimal(0);
    }

    private static String order(String id, String total, long timestamp) {
        return "{\"order_id\":\"" + id + "\",\"user_id\":6401,\"category\":\"xpart\",\"total\":" + total
                + ",\"timestamp\":" + timestamp + "}";
    }
}
