package io.readside.commands.saga;

import java.time.Instant;

import com.fasterxml.jackson.databind.JsonNode;

import io.readside.orders.OrderEvent;
import io.readside.projection.EventJson;
import io.readside.projection.InvalidRecordException;
import io.readside.values.Quote;

/**
 * A record of topic {@code payments}, key = order id:
 * {@code {"order_id":"o-1","type":"payment.completed"|"payment.failed"|"payment.refunded","reason":"...",
 * "timestamp":...}} ({@code reason} optional).
 */
public record PaymentResult(String orderId, SagaStep.Event event, String reason, Instant at) {

    static final int MAX_REASON_LENGTH = 1000;

    public static PaymentResult parse(byte[] keyBytes, byte[] value) {
        try {
            return read(keyBytes, value);
        } catch (RuntimeException e) {
            throw InvalidRecordException.unreadable(e);
        }
    }

    private static PaymentResult read(byte[] keyBytes, byte[] value) {
        String key = EventJson.key(keyBytes, "the order id");
        if (value == null) {
            throw new InvalidRecordException(InvalidRecordException.MISSING_FIELD, "a payment result needs a value");
        }
        JsonNode json = EventJson.object(value);
        String orderId = EventJson.requiredText(json, "order_id", OrderEvent.MAX_ID_LENGTH);
        if (key != null && !key.equals(orderId)) {
            throw new InvalidRecordException(InvalidRecordException.KEY_MISMATCH,
                    "key " + Quote.of(key) + " is not the order_id " + Quote.of(orderId));
        }
        String type = EventJson.requiredText(json, "type", 100);
        SagaStep.Event event = switch (type) {
            case "payment.completed" -> SagaStep.Event.PAYMENT_COMPLETED;
            case "payment.failed" -> SagaStep.Event.PAYMENT_FAILED;
            case "payment.refunded" -> SagaStep.Event.PAYMENT_REFUNDED;
            default -> throw new InvalidRecordException(InvalidRecordException.UNKNOWN_TYPE, "'type' " + Quote.of(type)
                    + " is not one of payment.completed, payment.failed, payment.refunded");
        };
        String reason = json.hasNonNull("reason") ? EventJson.requiredText(json, "reason", MAX_REASON_LENGTH) : null;
        return new PaymentResult(orderId, event, reason, EventJson.requiredInstant(json, "timestamp"));
    }
}
