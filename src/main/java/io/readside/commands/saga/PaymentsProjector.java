package io.readside.commands.saga;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import io.readside.projection.InvalidRecordException;
import io.readside.projection.RecordApplier;
import io.readside.projection.RecordLogContext;
import io.smallrye.mutiny.Uni;

/**
 * Projects topic {@code payments} onto the orders' status (the saga's replies): each result moves the order in the
 * same transaction as the record's position, so a redelivered result changes nothing.
 */
@ApplicationScoped
public class PaymentsProjector {

    private static final Logger LOG = Logger.getLogger(PaymentsProjector.class);

    public static final String CHANNEL = "payments";

    @Inject
    RecordApplier applier;
    @Inject
    PaymentSaga saga;

    @ConfigProperty(name = "mp.messaging.incoming." + CHANNEL + ".group.id")
    String group;

    @Incoming(CHANNEL)
    public Uni<Void> apply(ConsumerRecord<byte[], byte[]> record) {
        PaymentResult result;
        try {
            result = PaymentResult.parse(record.key(), record.value());
        } catch (InvalidRecordException e) {
            return applier.reject(CHANNEL, group, record, e).replaceWithVoid();
        }
        return applier.applyOnce(CHANNEL, group, record,
                conn -> saga.apply(conn, result.orderId(), result.event(), null, record))
                .invoke(step -> {
                    saga.counted(result.event(), step);
                    if (step != null && step.anomaly() != null) {
                        try (RecordLogContext context = RecordLogContext.of(record)) {
                            LOG.warnf("order %s: %s", result.orderId(), step.anomaly());
                        }
                    }
                })
                .replaceWithVoid();
    }
}
