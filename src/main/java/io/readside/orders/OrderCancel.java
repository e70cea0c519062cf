package io.readside.orders;

/**
 * A cancel request as the read models derived from orders see it ({@link OrdersReadModel#cancelRequested}): the
 * version of the order it cancels and what the payment saga decided ({@link CancelDecider}), told to every read model
 * after the decision, in the same transaction.
 *
 * @param request the cancel request (its event id, order id and time)
 * @param version the order's current version, whole (null: no such order)
 * @param decision what became of it
 */
public record OrderCancel(CancelRequested request, OrderEvent version, Decision decision) {

    public enum Decision {
        /** the order is cancelled (or, paid already, its refund is requested) */
        ACCEPTED,
        /** no such order, or one that cannot be cancelled any more (already cancelled, refund requested, refunded) */
        REFUSED,
        /** this cancel (its event id) was decided before: a copy delivered again, which changes nothing */
        REPEATED,
        /**
         * a rebuild's replay (or no decider deployed): nothing is decided then (the saga's state depends on payment results, which are not on
         * topic orders). The rebuilt orders table gets the live status only in the carry-over; a read model that
         * needs it takes it in its own {@link OrdersReadModel#carryOver}, which runs after that, not here
         */
        NOT_DECIDED
    }
}
