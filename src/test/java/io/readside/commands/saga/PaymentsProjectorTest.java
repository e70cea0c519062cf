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

    /**
     * Payments is a channel of single records, but a gap's records are read back and applied in chunks of up to
     * 2,000 (PositionGaps): such a chunk is written result after result, each step counted once committed.
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

        Committed committed = pool.withTransaction(conn -> projector.write(conn,
                new Batch<>(inputs, true, Instant.now(), null))).await().atMost(Duration.ofSeconds(60));

        assertEquals(2_000, committed.counted().size(), "each result's step, counted once committed");
    }
}
