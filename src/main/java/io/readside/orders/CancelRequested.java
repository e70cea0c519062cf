package io.readside.orders;

import java.time.Instant;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.readside.projection.EventJson;
import io.readside.projection.InvalidRecordException;

/**
 * {@code {"event_id":"...","type":"order.cancel_requested","order_id":"o-1","timestamp":"2026-11-27T10:00:00Z"}}
 * on topic {@code orders}, key = order id: the payment saga cancels the order (or refunds it when it was paid).
 */
public record CancelRequested(String eventId, String orderId, Instant requestedAt) implements OrdersTopicEvent {

    static CancelRequested of(String key, ObjectNode json) {
        String orderId = EventJson.requiredText(json, "order_id", OrderEvent.MAX_ID_LENGTH);
        if (key == null || !orderId.equals(key)) {
            throw new InvalidRecordException(key == null ? InvalidRecordException.MISSING_KEY
                    : InvalidRecordException.KEY_MISMATCH, "key '" + key + "' is not the order_id '" + orderId + "'");
        }
        return new CancelRequested(EventJson.requiredText(json, "event_id", OrderEvent.MAX_ID_LENGTH), orderId,
                EventJson.requiredInstant(json, "timestamp"));
    }
}
