package io.readside.commands.saga;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import io.readside.projection.Batch;
import io.readside.projection.Changelog;
import io.readside.projection.Committed;
import io.readside.projection.InTurn;
import io.readside.projection.Projector;
import io.readside.projection.RecordLogContext;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * Projects topic {@code payments} onto the orders' status (the saga's replies): each result moves the order in the
 * same transaction as the record's position, so a redelivered result changes nothing. Not rebuilt on its own: the
 * saga's state is carried over when orders is rebuilt.
 */
@ApplicationScoped
public class PaymentsProjector implements Changelog<PaymentResult> {

    private static final Logger LOG = Logger.getLogger(PaymentsProjector.class);

    public static final String CHANNEL = "payments";

    @Inject
    Projector engine;
    @Inject
    PaymentSaga saga;

    @ConfigProperty(name = "mp.messaging.incoming." + CHANNEL + ".group.id")
    String group;
    @ConfigProperty(name = "mp.messaging.incoming." + CHANNEL + ".topic")
    String topic;

    /** A payment result: a batch of one (see {@link Projector}). */
    @Incoming(CHANNEL)
    public Uni<Void> apply(ConsumerRecord<byte[], byte[]> record) {
        return engine.apply(this, record);
    }

    @Override
    public PaymentResult parse(ConsumerRecord<byte[], byte[]> record) {
        return PaymentResult.parse(record.key(), record.value());
    }

    @Override
    public Instant eventTime(PaymentResult event) {
        return null;
    }

    /**
     * The results one after the other, in offset order: each is a saga step of its order. (A batch of one, but for a
     * gap's records, read back in chunks of up to 2,000.)
     */
    @Override
    public Uni<Committed> write(SqlConnection conn, Batch<PaymentResult> batch) {
        List<Committed> steps = new ArrayList<>(batch.inputs().size());
        return InTurn.each(batch.inputs(), input -> {
            PaymentResult result = input.event();
            return saga.apply(conn, result.orderId(), result.event(), null, input.record())
                    .invoke(step -> steps.add(Committed.counting(() -> counted(result, step, input.record()))));
        }).map(done -> Committed.all(steps));
    }

    private void counted(PaymentResult result, SagaStep step, ConsumerRecord<?, ?> record) {
        saga.counted(result.event(), step);
        if (step != null && step.anomaly() != null) {
            try (RecordLogContext context = RecordLogContext.of(record)) {
                LOG.warnf("order %s: %s", result.orderId(), step.anomaly());
            }
        }
    }

    @Override
    public String channel() {
        return CHANNEL;
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public String group() {
        return group;
    }
}
