package io.readside.orders;

import com.fasterxml.jackson.databind.JsonNode;

import io.readside.projection.EventJson;
import io.readside.projection.InvalidRecordException;
import io.readside.values.Quote;

/**
 * A record of topic {@code orders}: a version of an order (no {@code type}, as the guide's producer sends it, or
 * {@code "order.created"}) or a request to cancel one ({@code "order.cancel_requested"}). The key is the order id,
 * exactly (as UTF-8 bytes).
 */
public sealed interface OrdersTopicEvent permits OrderEvent, CancelRequested {

    String CREATED = "order.created";
    String CANCEL_REQUESTED = "order.cancel_requested";

    String orderId();

    /** Reads a record; throws {@link InvalidRecordException} with the reason when it cannot be applied. */
    static OrdersTopicEvent parse(byte[] key, byte[] value, OrderEvent.Limits limits) {
        try {
            return read(key, value, limits);
        } catch (RuntimeException e) {
            throw InvalidRecordException.unreadable(e);
        }
    }

    private static OrdersTopicEvent read(byte[] key, byte[] value, OrderEvent.Limits limits) {
        if (value == null) {
            return OrderEvent.parse(key, null, limits); // says why
        }
        String keyText = key(key);
        JsonNode json = EventJson.object(value);
        JsonNode type = json.get("type");
        if (type == null || type.isNull() || CREATED.equals(type.asText())) {
            return OrderEvent.of(keyText, json, value, limits);
        }
        if (CANCEL_REQUESTED.equals(type.asText())) {
            return CancelRequested.of(keyText, json);
        }
        throw new InvalidRecordException(InvalidRecordException.UNKNOWN_TYPE, "'type' " + Quote.of(type)
                + " is not one of \"" + CREATED + "\", \"" + CANCEL_REQUESTED + "\" (or absent: an order version)");
    }

    /** The key as text: it must be there, and be UTF-8. */
    static String key(byte[] key) {
        if (key == null) {
            throw new InvalidRecordException(InvalidRecordException.MISSING_KEY, "the key must be the order id");
        }
        return EventJson.key(key, "the order id");
    }

    /**
     * The event's {@code order_id}: storable text of at most {@link OrderEvent#MAX_ID_LENGTH} characters that can
     * be named in a URL path (not {@code .} or {@code ..}), and exactly the record's key.
     */
    static String orderId(String key, JsonNode json) {
        String orderId = EventJson.requiredText(json, "order_id", OrderEvent.MAX_ID_LENGTH);
        if (orderId.equals(".") || orderId.equals("..")) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'order_id' must not be \".\" or \"..\" (an order must be readable at /orders/{id})");
        }
        if (orderId.indexOf('\uFFFD') >= 0) { // what a URL's undecodable bytes become: no GET could name it
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'order_id' contains U+FFFD, which /orders/{id} refuses as undecodable input");
        }
        if (!orderId.equals(key)) {
            throw new InvalidRecordException(InvalidRecordException.KEY_MISMATCH,
                    "key " + Quote.of(key) + " is not the order_id " + Quote.of(orderId));
        }
        return orderId;
    }
}
