package io.readside.commands.saga;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.readside.orders.CancelDecider;
import io.readside.orders.CancelRequested;
import io.readside.orders.OrderCancel;
import io.readside.orders.OrderChange;
import io.readside.orders.OrderEvent;
import io.readside.orders.OrdersReadModel;
import io.readside.projection.Batch;
import io.readside.projection.Committed;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * The payment saga's part of the orders changelog: a new order's payment request goes into the outbox in the
 * transaction that writes the order (in the batch's trace), and a cancel request on topic orders is a saga step whose
 * decision every read model is told ({@link CancelDecider}).
 * A rebuild's replay requests nothing (the saga's state is carried over from the live table).
 */
@ApplicationScoped
public class PaymentRequests implements OrdersReadModel, CancelDecider {

    @Inject
    PaymentSaga saga;

    @Override
    public String name() {
        return "payment-saga";
    }

    /** Its state is in the orders table's status columns, carried over by the orders projection. */
    @Override
    public List<String> tables() {
        return List.of();
    }

    /** A payment request may not come late: one sent after the order's cancel or timeout would charge it. */
    @Override
    public boolean stopsAlone() {
        return false;
    }

    @Override
    public Uni<Committed> apply(SqlConnection conn, List<OrderChange> changes, Batch<?> batch) {
        List<OrderEvent> created = changes.stream().filter(change -> change.before() == null)
                .map(OrderChange::after).toList();
        if (!batch.live() || created.isEmpty()) {
            return Uni.createFrom().item(Committed.NOTHING);
        }
        return saga.requestPayments(conn, created, batch.processedAt(), batch.trace()).replaceWith(Committed.NOTHING);
    }

    /**
     * A cancel is a saga step: accepted when it moves the order (cancelled, or its refund requested), repeated when
     * this cancel was applied before, refused otherwise (an anomaly, recorded).
     */
    @Override
    public Uni<Decided> decide(SqlConnection conn, CancelRequested cancel, ConsumerRecord<?, ?> source) {
        return saga.apply(conn, cancel.orderId(), SagaStep.Event.CANCEL_REQUESTED, cancel.eventId(), source)
                .map(step -> new Decided(step == null ? OrderCancel.Decision.REPEATED
                        : step.moves() ? OrderCancel.Decision.ACCEPTED : OrderCancel.Decision.REFUSED,
                        Committed.counting(() -> saga.counted(SagaStep.Event.CANCEL_REQUESTED, step))));
    }
}
