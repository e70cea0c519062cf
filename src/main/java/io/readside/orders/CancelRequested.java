package io.readside.orders;

import java.time.Instant;

import com.fasterxml.jackson.databind.JsonNode;

import io.readside.projection.EventJson;

/**
 * {@code {"event_id":"...","type":"order.cancel_requested","order_id":"o-1","timestamp":"2026-11-27T10:00:00Z"}}
 * on topic {@code orders}, key = order id: the payment saga cancels the order (or refunds it when it was paid).
 */
public record CancelRequested(String eventId, String orderId, Instant requestedAt) implements OrdersTopicEvent {

    static CancelRequested of(String key, JsonNode json) {
        String orderId = OrdersTopicEvent.orderId(key, json);
        return new CancelRequested(EventJson.requiredText(json, "event_id", OrderEvent.MAX_ID_LENGTH), orderId,
                EventJson.requiredInstant(json, "timestamp"));
    }
}
