package io.readside.orders;

import java.math.BigDecimal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.readside.projection.EventJson;
import io.readside.projection.InvalidRecordException;

/**
 * A record of topic {@code orders}: a version of an order (no {@code type}, as the guide's producer sends it, or
 * {@code "order.created"}) or a request to cancel one ({@code "order.cancel_requested"}).
 */
public sealed interface OrdersTopicEvent permits OrderEvent, CancelRequested {

    String CREATED = "order.created";
    String CANCEL_REQUESTED = "order.cancel_requested";

    String orderId();

    /** Reads a record; throws {@link InvalidRecordException} with the reason when it cannot be applied. */
    static OrdersTopicEvent parse(String key, byte[] value, BigDecimal maxTotal) {
        if (value == null) {
            return OrderEvent.parse(key, null, maxTotal); // says why
        }
        ObjectNode json = (ObjectNode) EventJson.object(value);
        JsonNode type = json.get("type");
        if (type == null || type.isNull() || CREATED.equals(type.asText())) {
            if (key == null) {
                throw new InvalidRecordException(InvalidRecordException.MISSING_KEY, "the key must be the order id");
            }
            return OrderEvent.of(key, json, maxTotal);
        }
        if (CANCEL_REQUESTED.equals(type.asText())) {
            return CancelRequested.of(key, json);
        }
        throw new InvalidRecordException(InvalidRecordException.UNKNOWN_TYPE, "'type' " + type
                + " is not one of \"" + CREATED + "\", \"" + CANCEL_REQUESTED + "\" (or absent: an order version)");
    }
}
