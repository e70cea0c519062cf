package io.readside.commands.saga;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.readside.projection.outbox.Outbox;
import io.readside.orders.OrderEvent;
import io.readside.orders.OrderStatus;
import io.readside.projection.tracing.TraceHeaders;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The payment saga's writes: each step moves the order's status and writes what it asks of the payment service
 * into the outbox, in the caller's transaction (the one that also stores the consumed record's position). The
 * rules are {@link SagaStep}'s.
 */
@ApplicationScoped
public class PaymentSaga {

    static final String LOCK_ORDER = """
            SELECT status, user_id, total, cancel_event_id FROM orders WHERE order_id = $1 FOR UPDATE""";

    static final String MOVE = """
            UPDATE orders SET status = $2, status_changed_at = now(), cancel_event_id = COALESCE($3, cancel_event_id)
             WHERE order_id = $1""";

    static final String RECORD_ANOMALY = """
            INSERT INTO saga_anomalies (order_id, event, order_status, action, detail, source_topic, source_partition,
                                        source_offset)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""";

    /**
     * Orders still PENDING a payment result past the timeout, judged at {@code $3}: the latest time by which the
     * payments consumer had applied everything in its log (not now, when it lags); several instances split them
     * (SKIP LOCKED).
     */
    static final String TIME_OUT_OVERDUE = """
            WITH due AS (
                SELECT order_id FROM orders
                 WHERE status = 'PENDING' AND payment_requested_at < LEAST(now(), $3) - make_interval(secs => $1)
                 ORDER BY payment_requested_at
                 LIMIT $2
                   FOR UPDATE SKIP LOCKED)
            UPDATE orders o SET status = 'PAYMENT_TIMEOUT', status_changed_at = now()
              FROM due WHERE o.order_id = due.order_id
            RETURNING o.order_id, o.user_id, o.total""";

    @Inject
    Pool pool;
    @Inject
    MeterRegistry registry;

    @ConfigProperty(name = "readside.saga.payment-requests-topic")
    String paymentRequests;
    @ConfigProperty(name = "readside.saga.refund-requests-topic")
    String refundRequests;

    /**
     * New orders: a payment request each (their rows carry {@code payment_requested_at}), sent in the trace of the
     * batch that applied them ({@code trace}, null for none).
     */
    public Uni<Void> requestPayments(SqlConnection conn, List<OrderEvent> created, Instant at, TraceHeaders trace) {
        List<String> keys = new ArrayList<>(created.size());
        List<String> payloads = new ArrayList<>(created.size());
        String requestedAt = at.toString();
        for (OrderEvent order : created) {
            keys.add(order.orderId());
            payloads.add(new PaymentCommand(PaymentCommand.REQUESTED, order.orderId(), order.userId(), order.total(),
                    at, null).json(requestedAt));
        }
        return Outbox.addAll(conn, paymentRequests, PaymentCommand.REQUESTED, keys, payloads, trace);
    }

    /**
     * Applies {@code event} to the order in {@code conn}'s transaction; returns the step taken (null when it was the
     * cancel already applied, delivered again). {@code eventId} is the cancel's event id, else null.
     */
    public Uni<SagaStep> apply(SqlConnection conn, String orderId, SagaStep.Event event, String eventId,
            ConsumerRecord<?, ?> source) {
        return conn.preparedQuery(LOCK_ORDER).execute(Tuple.of(orderId)).flatMap(rows -> {
            Row row = rows.size() == 0 ? null : rows.iterator().next();
            if (row != null && eventId != null && eventId.equals(row.getString("cancel_event_id"))) {
                return Uni.createFrom().nullItem();
            }
            OrderStatus current = row == null ? null : OrderStatus.valueOf(row.getString("status"));
            SagaStep step = SagaStep.of(current, event);
            Long userId = row == null ? null : row.getLong("user_id");
            BigDecimal amount = row == null ? null : row.getBigDecimal("total");
            Uni<Void> moved = !step.moves() ? Uni.createFrom().voidItem()
                    : conn.preparedQuery(MOVE).execute(Tuple.of(orderId, step.next().name(),
                            event == SagaStep.Event.CANCEL_REQUESTED ? eventId : null)).replaceWithVoid();
            return moved
                    .chain(() -> command(conn, step.command(), orderId, userId, amount, event))
                    .chain(() -> step.anomaly() == null ? Uni.createFrom().voidItem()
                            : conn.preparedQuery(RECORD_ANOMALY).execute(Tuple.from(new Object[] { orderId,
                                    event.type, current == null ? null : current.name(),
                                    step.command() == SagaStep.Command.REFUND ? "refund_requested" : "none",
                                    step.anomaly(), source.topic(), source.partition(), source.offset() }))
                                    .replaceWithVoid())
                    .replaceWith(step);
        });
    }

    /** The anomaly counters at zero from the start (see ProjectionMetrics.registerMeters). */
    void registerMeters(@Observes StartupEvent start) {
        for (SagaStep.Event event : SagaStep.Event.values()) {
            registry.counter("readside.saga.anomalies", "event", event.type);
        }
    }

    /** Counts a step once its transaction committed. */
    public void counted(SagaStep.Event event, SagaStep step) {
        if (step == null) {
            return;
        }
        if (step.moves()) {
            registry.counter("readside.saga.transitions", "event", event.type, "to", step.next().name()).increment();
        } else {
            registry.counter("readside.saga.anomalies", "event", event.type).increment();
        }
    }

    /**
     * Moves up to {@code limit} PENDING orders whose payment was requested more than {@code timeout} before
     * {@code resultsAppliedUntil} (every payment result written before it is applied) to PAYMENT_TIMEOUT; returns
     * how many.
     */
    public Uni<Integer> timeOutOverdue(Duration timeout, Instant resultsAppliedUntil, int limit) {
        return pool.withTransaction(conn -> conn.preparedQuery(TIME_OUT_OVERDUE)
                .execute(Tuple.of(timeout.toMillis() / 1000.0, limit, resultsAppliedUntil.atOffset(ZoneOffset.UTC)))
                .flatMap(rows -> {
                    List<String> keys = new ArrayList<>();
                    List<String> payloads = new ArrayList<>();
                    Instant now = Instant.now();
                    for (Row row : rows) {
                        keys.add(row.getString("order_id"));
                        payloads.add(new PaymentCommand(PaymentCommand.CANCEL_REQUESTED, row.getString("order_id"),
                                row.getLong("user_id"), row.getBigDecimal("total"), now, "payment_timeout").json());
                    }
                    return Outbox.addAll(conn, paymentRequests, PaymentCommand.CANCEL_REQUESTED, keys, payloads, null)
                            .replaceWith(keys.size());
                }))
                .invoke(count -> {
                    if (count > 0) {
                        registry.counter("readside.saga.transitions", "event", SagaStep.Event.TIMED_OUT.type, "to",
                                OrderStatus.PAYMENT_TIMEOUT.name()).increment(count);
                    }
                });
    }

    private Uni<Void> command(SqlConnection conn, SagaStep.Command command, String orderId, Long userId,
            BigDecimal amount, SagaStep.Event cause) {
        return switch (command) {
            case NONE -> Uni.createFrom().voidItem();
            case CANCEL_PAYMENT -> Outbox.add(conn, paymentRequests, orderId, PaymentCommand.CANCEL_REQUESTED,
                    new PaymentCommand(PaymentCommand.CANCEL_REQUESTED, orderId, userId, amount, Instant.now(),
                            cause == SagaStep.Event.TIMED_OUT ? "payment_timeout" : "order_cancelled").json(), null)
                    .replaceWithVoid();
            case REFUND -> Outbox.add(conn, refundRequests, orderId, PaymentCommand.REFUND_REQUESTED,
                    new PaymentCommand(PaymentCommand.REFUND_REQUESTED, orderId, userId, amount, Instant.now(),
                            cause == SagaStep.Event.CANCEL_REQUESTED ? "order_cancelled" : "payment_not_expected").json(),
                    null)
                    .replaceWithVoid();
        };
    }
}
