package io.readside.commands.saga;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.readside.commands.saga.SagaStep.Command;
import io.readside.commands.saga.SagaStep.Event;
import io.readside.orders.OrderStatus;

/** The saga's rules for every status (and an unknown order) and every event: pure logic. */
class SagaStepTest {

    private static final Set<OrderStatus> NOT_GOING_AHEAD = EnumSet.of(OrderStatus.CANCELLED,
            OrderStatus.PAYMENT_FAILED, OrderStatus.PAYMENT_TIMEOUT);

    @Test
    void theLegalPathsMoveTheStatusAndAskWhatTheyNeed() {
        assertStep(OrderStatus.PENDING, Event.PAYMENT_COMPLETED, OrderStatus.PAID, Command.NONE);
        assertStep(OrderStatus.PENDING, Event.PAYMENT_FAILED, OrderStatus.PAYMENT_FAILED, Command.NONE);
        assertStep(OrderStatus.PENDING, Event.TIMED_OUT, OrderStatus.PAYMENT_TIMEOUT, Command.CANCEL_PAYMENT);
        assertStep(OrderStatus.PENDING, Event.CANCEL_REQUESTED, OrderStatus.CANCELLED, Command.CANCEL_PAYMENT);
        assertStep(OrderStatus.PAID, Event.CANCEL_REQUESTED, OrderStatus.REFUND_REQUESTED, Command.REFUND);
        assertStep(OrderStatus.REFUND_REQUESTED, Event.PAYMENT_REFUNDED, OrderStatus.REFUNDED, Command.NONE);
        assertStep(OrderStatus.PAYMENT_FAILED, Event.CANCEL_REQUESTED, OrderStatus.CANCELLED, Command.NONE);
        assertStep(OrderStatus.PAYMENT_TIMEOUT, Event.CANCEL_REQUESTED, OrderStatus.CANCELLED, Command.NONE);
    }

    @Test
    void everythingElseIsAnAnomalyThatNeverMovesTheStatusAndRefundsOnlyMoneyTakenForAnOrderNotGoingAhead() {
        List<String> anomalies = new ArrayList<>();
        List<OrderStatus> statuses = new ArrayList<>(List.of(OrderStatus.values()));
        statuses.add(null);
        for (OrderStatus status : statuses) {
            for (Event event : Event.values()) {
                SagaStep step = SagaStep.of(status, event);
                if (step.moves()) {
                    assertNull(step.anomaly());
                    continue;
                }
                assertNotNull(step.anomaly(), status + " " + event);
                anomalies.add(status + " " + event);
                boolean moneyForNothing = event == Event.PAYMENT_COMPLETED
                        && (status == null || NOT_GOING_AHEAD.contains(status));
                assertEquals(moneyForNothing ? Command.REFUND : Command.NONE, step.command(), status + " " + event);
            }
        }
        // 8 statuses (7 and unknown) x 5 events, 8 legal steps
        assertEquals(8 * 5 - 8, anomalies.size(), anomalies.toString());
    }

    private static void assertStep(OrderStatus from, Event event, OrderStatus to, Command command) {
        SagaStep step = SagaStep.of(from, event);
        assertEquals(to, step.next(), from + " " + event);
        assertEquals(command, step.command(), from + " " + event);
        assertNull(step.anomaly());
    }
}
