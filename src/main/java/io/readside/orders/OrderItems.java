package io.readside.orders;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An order's items as the orders table keeps them (column {@code items}, jsonb):
 * {@code [{"sku":"b-1","qty":2,"price":6.25}]}, {@code sku} and {@code price} left out when the event had none, prices
 * exact (jsonb numbers are numeric). Written by Readside only, so read back without the event's checks.
 */
final class OrderItems {

    /** Prices exactly as written (100.00 stays 100.00, not 1E+2). */
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES).build();

    private OrderItems() {
    }

    /** The column's text; null when the event listed no items. */
    static String write(List<OrderEvent.Item> items) {
        if (items == null) {
            return null;
        }
        ArrayNode array = MAPPER.createArrayNode();
        for (OrderEvent.Item item : items) {
            ObjectNode entry = array.addObject();
            if (item.sku() != null) {
                entry.put("sku", item.sku());
            }
            entry.put("qty", item.qty());
            if (item.price() != null) {
                entry.put("price", item.price());
            }
        }
        return array.toString();
    }

    /** The items of the column's text; null when it is null (none listed, or stored before items were kept). */
    static List<OrderEvent.Item> read(String column) {
        if (column == null) {
            return null;
        }
        try {
            List<OrderEvent.Item> items = new ArrayList<>();
            for (JsonNode entry : MAPPER.readTree(column)) {
                items.add(new OrderEvent.Item(entry.hasNonNull("sku") ? entry.get("sku").asText() : null,
                        entry.get("qty").intValue(),
                        entry.hasNonNull("price") ? entry.get("price").decimalValue() : null));
            }
            return List.copyOf(items);
        } catch (IOException e) {
            throw new UncheckedIOException("column orders.items is not the JSON Readside writes", e);
        }
    }
}
