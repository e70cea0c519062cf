package io.readside.orders;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.readside.projection.EventJson;
import io.readside.projection.InvalidRecordException;

/**
 * One record of topic {@code orders}: key = order id, value
 * {@code {"order_id":"o-1","user_id":1007,"category":"books","total":12.50,"timestamp":1764230000.5}} with optional
 * {@code "items":[{"sku":"b-1","qty":2,"price":6.25}]}, and {@code "type":"order.created"} and an {@code "event_id"}
 * when it comes from Readside's own command API. Money is read exactly. {@code json} is the value as
 * received, unknown fields included, for the enriched copy on processed-orders.
 */
public record OrderEvent(String orderId, long userId, String category, BigDecimal total, Integer itemCount,
        Instant createdAt, ObjectNode json) implements OrdersTopicEvent {

    public static final int MAX_ID_LENGTH = 200;
    static final int MAX_CATEGORY_LENGTH = 100;
    static final int MAX_QTY = 1_000_000;

    /** Reads a record; throws {@link InvalidRecordException} with the reason when it cannot be applied. */
    public static OrderEvent parse(String key, byte[] value, BigDecimal maxTotal) {
        if (key == null) {
            throw new InvalidRecordException(InvalidRecordException.MISSING_KEY, "the key must be the order id");
        }
        if (value == null) {
            throw new InvalidRecordException(InvalidRecordException.MISSING_FIELD,
                    "an order record needs a value (orders is not a compacted topic)");
        }
        return of(key, (ObjectNode) EventJson.object(value), maxTotal);
    }

    /** As {@link #parse} for a value already read as JSON. */
    static OrderEvent of(String key, ObjectNode json, BigDecimal maxTotal) {
        String orderId = EventJson.requiredText(json, "order_id", MAX_ID_LENGTH);
        if (!orderId.equals(key)) {
            throw new InvalidRecordException(InvalidRecordException.KEY_MISMATCH,
                    "key '" + key + "' is not the order_id '" + orderId + "'");
        }
        long userId = EventJson.requiredLong(json, "user_id");
        if (userId <= 0) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE, "'user_id' must be positive");
        }
        String category = EventJson.requiredText(json, "category", MAX_CATEGORY_LENGTH);
        BigDecimal total = money(EventJson.requiredDecimal(json, "total"), "total");
        if (total.compareTo(maxTotal) > 0) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'total' " + total.toPlainString() + " is above the plausible maximum " + maxTotal.toPlainString());
        }
        Instant createdAt = EventJson.requiredInstant(json, "timestamp");
        return new OrderEvent(orderId, userId, category, total, itemCount(json), createdAt, json);
    }

    /** Sum of the items' quantities; null when the event lists no items. */
    private static Integer itemCount(JsonNode json) {
        JsonNode items = json.get("items");
        if (items == null || items.isNull()) {
            return null;
        }
        if (!items.isArray()) {
            throw new InvalidRecordException(InvalidRecordException.WRONG_TYPE, "'items' must be an array");
        }
        long count = 0;
        for (JsonNode item : items) {
            if (!item.isObject()) {
                throw new InvalidRecordException(InvalidRecordException.WRONG_TYPE, "each item must be an object");
            }
            count += EventJson.requiredInt(item, "qty", 1, MAX_QTY);
            if (item.hasNonNull("price")) {
                money(EventJson.requiredDecimal(item, "price"), "price");
            }
        }
        if (count > Integer.MAX_VALUE) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE, "too many items");
        }
        return (int) count;
    }

    /** Not negative, at most cents: 12.5 and 12.50 are the same amount, 12.505 is refused. */
    private static BigDecimal money(BigDecimal amount, String field) {
        if (amount.signum() < 0) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'" + field + "' must not be negative, got " + amount.toPlainString());
        }
        try {
            return amount.setScale(2, RoundingMode.UNNECESSARY);
        } catch (ArithmeticException e) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'" + field + "' has more than 2 decimals: " + amount.toPlainString());
        }
    }
}
