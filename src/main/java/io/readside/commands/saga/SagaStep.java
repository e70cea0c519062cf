package io.readside.commands.saga;

import static io.readside.orders.OrderStatus.CANCELLED;
import static io.readside.orders.OrderStatus.PAID;
import static io.readside.orders.OrderStatus.PAYMENT_FAILED;
import static io.readside.orders.OrderStatus.PAYMENT_TIMEOUT;
import static io.readside.orders.OrderStatus.PENDING;
import static io.readside.orders.OrderStatus.REFUNDED;
import static io.readside.orders.OrderStatus.REFUND_REQUESTED;

import io.readside.orders.OrderStatus;

/**
 * The payment saga's rules, pure: what an event does to an order in a given status. A step that does not fit the
 * status never moves it; it is an anomaly (recorded and counted), and when it means money was taken for an order
 * that is not going ahead, it asks for a refund.
 *
 * <pre>
 * PENDING          --payment.completed-->      PAID
 * PENDING          --payment.failed-->         PAYMENT_FAILED
 * PENDING          --timeout-->                PAYMENT_TIMEOUT   + payment request cancelled
 * PENDING          --order.cancel_requested--> CANCELLED         + payment request cancelled
 * PAID             --order.cancel_requested--> REFUND_REQUESTED  + refund requested (compensation)
 * REFUND_REQUESTED --payment.refunded-->       REFUNDED
 * PAYMENT_FAILED, PAYMENT_TIMEOUT --order.cancel_requested--> CANCELLED (nothing was taken)
 * CANCELLED, PAYMENT_FAILED, PAYMENT_TIMEOUT, unknown order --payment.completed--> anomaly + refund requested
 * </pre>
 */
public record SagaStep(OrderStatus next, Command command, String anomaly) {

    public enum Event {
        CANCEL_REQUESTED("order.cancel_requested"),
        PAYMENT_COMPLETED("payment.completed"),
        PAYMENT_FAILED("payment.failed"),
        PAYMENT_REFUNDED("payment.refunded"),
        TIMED_OUT("payment.timeout");

        public final String type;

        Event(String type) {
            this.type = type;
        }
    }

    /** What the saga asks of the payment service. */
    public enum Command {
        NONE, CANCEL_PAYMENT, REFUND
    }

    public boolean moves() {
        return next != null;
    }

    private static SagaStep to(OrderStatus next, Command command) {
        return new SagaStep(next, command, null);
    }

    private static SagaStep anomaly(Command command, String why) {
        return new SagaStep(null, command, why);
    }

    /** @param current the order's status; null when there is no such order */
    public static SagaStep of(OrderStatus current, Event event) {
        if (current == null) {
            return event == Event.PAYMENT_COMPLETED
                    ? anomaly(Command.REFUND, "payment taken for an order Readside does not know")
                    : anomaly(Command.NONE, event.type + " for an order Readside does not know");
        }
        return switch (event) {
            case PAYMENT_COMPLETED -> switch (current) {
                case PENDING -> to(PAID, Command.NONE);
                case PAID -> anomaly(Command.NONE, "duplicate payment result: the order is already PAID");
                case CANCELLED, PAYMENT_FAILED, PAYMENT_TIMEOUT -> anomaly(Command.REFUND,
                        "payment taken for an order that is " + current + ": refund requested");
                case REFUND_REQUESTED, REFUNDED -> anomaly(Command.NONE,
                        "payment result for an order whose refund is " + current + ": needs a person to check");
            };
            case PAYMENT_FAILED -> current == PENDING ? to(PAYMENT_FAILED, Command.NONE)
                    : anomaly(Command.NONE, "payment.failed for an order that is " + current);
            case PAYMENT_REFUNDED -> current == REFUND_REQUESTED ? to(REFUNDED, Command.NONE)
                    : anomaly(Command.NONE, "payment.refunded for an order that is " + current
                            + (current == REFUNDED ? " (duplicate)" : ""));
            case TIMED_OUT -> current == PENDING ? to(PAYMENT_TIMEOUT, Command.CANCEL_PAYMENT)
                    : anomaly(Command.NONE, "timeout for an order that is " + current);
            case CANCEL_REQUESTED -> switch (current) {
                case PENDING -> to(CANCELLED, Command.CANCEL_PAYMENT);
                case PAID -> to(REFUND_REQUESTED, Command.REFUND);
                case PAYMENT_FAILED, PAYMENT_TIMEOUT -> to(CANCELLED, Command.NONE);
                case CANCELLED, REFUND_REQUESTED, REFUNDED -> anomaly(Command.NONE,
                        "cancel requested for an order that is already " + current);
            };
        };
    }
}
