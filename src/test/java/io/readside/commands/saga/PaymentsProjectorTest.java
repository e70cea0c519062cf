package io.readside.commands.saga;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.Batch;
import io.readside.projection.Committed;
import io.readside.testing.InMemoryChannels;
import io.vertx.mutiny.sqlclient.Pool;

/** The payments projector's writes, in a real PostgreSQL transaction. */
@QuarkusTest
@TestProfile(InMemoryChannels.class)
class PaymentsProjectorTest {

    @Inject
    PaymentsProjector projector;

    @Inject
    Pool pool;

    @Inject
    MeterRegistry registry;

    /**
     * Payments is a channel of single records, but a gap's records are read back and applied in chunks of up to
     * 2,000 (PositionGaps): such a chunk is written result after result, each step counted once committed. The
     * transaction is rolled back.
     */
    @Test
    void aGapsChunkOfTwoThousandPaymentResultsIsWrittenInOneTransaction() {
        List<Batch.Input<PaymentResult>> inputs = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            String orderId = "chunk-payment-" + i;
            ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("memory-payments", 0, i,
                    orderId.getBytes(StandardCharsets.UTF_8), ("{\"order_id\":\"" + orderId
                            + "\",\"type\":\"payment.completed\",\"timestamp\":1764230400}")
                            .getBytes(StandardCharsets.UTF_8));
            inputs.add(new Batch.Input<>(projector.parse(record), record, null));
        }

        double before = completedAnomalies();

        // rolled back: the refunds the saga asks for (none of these orders exists) must not reach the outbox
        Committed committed = pool.withConnection(conn -> conn.begin().flatMap(transaction -> projector
                .write(conn, new Batch<>(inputs, true, Instant.now(), null))
                .call(transaction::rollback))).await().atMost(Duration.ofSeconds(60));
        committed.counted().forEach(Runnable::run);

        assertEquals(2_000, committed.counted().size(), "each result's step, counted once committed");
        assertEquals(before + 2_000, completedAnomalies(), "a payment of an order the saga does not know, each");
    }

    private double completedAnomalies() {
        Counter counter = registry.find("readside.saga.anomalies").tag("event", "payment.completed").counter();
        return counter == null ? 0 : counter.count();
    }
}
