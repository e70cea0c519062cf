package io.readside.orders;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.InMemoryChannels;
import io.readside.testing.Polls;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Polls of topic orders as large as max.poll.records (2,000) whose records are each written on their own: every
 * record is applied and the poll acknowledged, however many parts the poll's transaction has.
 */
@QuarkusTest
@TestProfile(InMemoryChannels.class)
class FullPollsOfOrdersTest {

    private static final Duration APPLIED = Duration.ofSeconds(60);

    @Inject
    OrdersProjector projector;

    @Inject
    Pool pool;

    @Inject
    MeterRegistry registry;

    @Test
    void aFullPollOfCancelRequestsIsWrittenRequestByRequest(TestInfo test) {
        String topic = "memory-" + test.getTestMethod().orElseThrow().getName();
        List<ConsumerRecord<byte[], byte[]>> poll = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            String orderId = "full-poll-cancel-" + i;
            String cancel = """
                    {"event_id":"c-%d","type":"order.cancel_requested","order_id":"%s",\
                    "timestamp":"2026-11-27T10:00:00Z"}""".formatted(i, orderId);
            poll.add(new ConsumerRecord<>(topic, 0, i, orderId.getBytes(StandardCharsets.UTF_8),
                    cancel.getBytes(StandardCharsets.UTF_8)));
        }
        List<Long> acknowledged = new CopyOnWriteArrayList<>();
        double anomaliesBefore = cancelAnomalies();

        projector.applyBatch(Polls.of(poll, OrdersProjector.CHANNEL, acknowledged)).await().atMost(APPLIED);

        assertEquals(List.of(1_999L), acknowledged);
        assertEquals(2_000L, pool.preparedQuery("""
                SELECT next_offset FROM projection_positions
                 WHERE consumer_group = 'readside' AND topic = $1 AND kafka_partition = 0""")
                .execute(Tuple.of(topic)).await().atMost(Duration.ofSeconds(5)).iterator().next().getLong(0));
        // each request was decided on its own: a cancel of an order the saga does not know is an anomaly
        assertEquals(anomaliesBefore + 2_000, cancelAnomalies());
    }

    private double cancelAnomalies() {
        Counter counter = registry.find("readside.saga.anomalies").tag("event", "order.cancel_requested").counter();
        return counter == null ? 0 : counter.count();
    }
}
