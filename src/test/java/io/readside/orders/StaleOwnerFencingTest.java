package io.readside.orders;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

import jakarta.inject.Inject;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.RealInfrastructure;
import io.readside.testing.TestProducer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Transaction;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * A stale owner (an instance that read records of a partition which has meanwhile moved to another instance) must
 * not overwrite what the new owner applied: its transaction locks and reads the partition's position before it
 * writes, waits for the new owner's commit, finds the position moved past the record and treats it as a
 * redelivery. (Before the engine read positions inside the transaction, the claim itself found the move and the batch
 * was read again: {@code PositionMovedException}, which remains for a position row two owners create at once.)
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class StaleOwnerFencingTest {

    private static final Duration WITHIN = Duration.ofSeconds(60);
    private static final OffsetDateTime NEW_OWNERS_MARK = OffsetDateTime.of(2001, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;
    @Inject
    MeterRegistry registry;

    @Test
    void staleOwnerCannotOverwriteWhatTheNewOwnerApplied() {
        String first = """
                {"order_id":"fence-1","user_id":9,"category":"fence","total":"10.00","timestamp":1764230000}""";
        String second = first.replace("}", ",\"items\":[{\"sku\":\"a\",\"qty\":3,\"price\":\"1.00\"}]}");
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            RecordMetadata v1 = producer.send("orders", "fence-1", first);
            await().atMost(WITHIN).until(() -> row("fence-1") != null && row("fence-1").getLong("source_offset") == v1.offset());

            // the new owner holds the partition's position row while it applies the next record
            SqlConnection newOwner = pool.getConnection().await().atMost(WITHIN);
            Transaction tx = newOwner.begin().await().atMost(WITHIN);
            long next = newOwner.preparedQuery("""
                    SELECT next_offset FROM projection_positions
                     WHERE consumer_group = 'readside' AND topic = 'orders' AND kafka_partition = $1 FOR UPDATE""")
                    .execute(Tuple.of(v1.partition())).await().atMost(WITHIN).iterator().next().getLong(0);
            double duplicatesBefore = count("readside.records", "outcome", "duplicate");

            // ... while this instance, now stale, reads the same record and waits on that row to claim it
            RecordMetadata v2 = producer.send("orders", "fence-1", second);
            assertEquals(next, v2.offset(), "nothing else is pending on the partition");
            await("the stale owner waits on the position").atMost(WITHIN).until(() -> pool.query("""
                    SELECT count(*) FROM pg_stat_activity
                     WHERE wait_event_type = 'Lock' AND query LIKE '%projection_positions%'""").execute()
                    .await().atMost(WITHIN).iterator().next().getLong(0) > 0);

            newOwner.preparedQuery("""
                    UPDATE orders SET item_count = 3, source_offset = $1, processed_at = $2 WHERE order_id = 'fence-1'""")
                    .execute(Tuple.of(v2.offset(), NEW_OWNERS_MARK)).await().atMost(WITHIN);
            newOwner.preparedQuery("""
                    UPDATE projection_positions SET next_offset = $1
                     WHERE consumer_group = 'readside' AND topic = 'orders' AND kafka_partition = $2""")
                    .execute(Tuple.of(v2.offset() + 1, v2.partition())).await().atMost(WITHIN);
            tx.commit().await().atMost(WITHIN);
            newOwner.close().await().atMost(WITHIN);

            await("the stale owner found the position moved").atMost(WITHIN).until(() -> count(
                    "readside.records", "outcome", "duplicate") > duplicatesBefore);
        }
        Row order = row("fence-1");
        assertEquals(NEW_OWNERS_MARK.toInstant(), order.getOffsetDateTime("processed_at").toInstant(),
                "the new owner's write stands");
        assertEquals(3, order.getInteger("item_count"));
    }

    private Row row(String orderId) {
        var rows = pool.preparedQuery("SELECT * FROM orders WHERE order_id = $1").execute(Tuple.of(orderId))
                .await().atMost(WITHIN);
        return rows.size() == 0 ? null : rows.iterator().next();
    }

    private double count(String name, String tag, String value) {
        Counter counter = registry.find(name).tag("channel", OrdersProjector.CHANNEL).tag(tag, value).counter();
        return counter == null ? 0 : counter.count();
    }
}
