package io.readside.orders;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.databind.JsonNode;

import io.readside.projection.EventJson;
import io.readside.projection.InvalidRecordException;
import io.readside.values.Quote;

/**
 * One record of topic {@code orders}: key = order id, value
 * {@code {"order_id":"o-1","user_id":1007,"category":"books","total":12.50,"timestamp":1764230000.5}} with optional
 * {@code "items":[{"sku":"b-1","qty":2,"price":6.25}]}, and {@code "type":"order.created"} and an {@code "event_id"}
 * when it comes from Readside's own command API. Money is read exactly. {@code value} is the record's value as
 * received (bytes), for the enriched copy on processed-orders; null for a version read back from the orders table
 * (a change's {@code before}), which keeps every field but not the bytes.
 *
 * @param itemCount the sum of the items' quantities; null when the event lists no items
 * @param items the items as listed; null when the event lists none, or (with {@code itemCount} known) for a version
 *            stored before the orders table kept them
 */
public record OrderEvent(String orderId, long userId, String category, BigDecimal total, Integer itemCount,
        List<Item> items, Instant createdAt, byte[] value) implements OrdersTopicEvent {

    /**
     * One entry of {@code items}: {@code qty} is required, {@code sku} and {@code price} are optional (null when
     * absent; a read model says what it does without them).
     */
    public record Item(String sku, int qty, BigDecimal price) {

        /** Equal, prices compared as numbers (6.0 is 6.00). */
        public boolean sameAs(Item other) {
            return Objects.equals(sku, other.sku) && qty == other.qty
                    && (price == null ? other.price == null : other.price != null && price.compareTo(other.price) == 0);
        }
    }

    public static final int MAX_ID_LENGTH = 200;
    public static final int MAX_CATEGORY_LENGTH = 100;
    public static final int MAX_SKU_LENGTH = 100;
    public static final int MAX_ITEMS = 1000;
    public static final int MAX_QTY = 1_000_000;

    /**
     * What an order record must meet besides its shape: {@code maxTotal}, and the latest event time it may carry
     * ({@code latestEventTime}, null: no bound), so that a producer's clock that runs ahead cannot move stream time.
     */
    public record Limits(BigDecimal maxTotal, Instant latestEventTime) {
    }

    /** Reads a record; throws {@link InvalidRecordException} with the reason when it cannot be applied. */
    public static OrderEvent parse(byte[] key, byte[] value, Limits limits) {
        if (value == null) {
            throw new InvalidRecordException(InvalidRecordException.MISSING_FIELD,
                    "an order record needs a value (orders is not a compacted topic)");
        }
        try {
            return of(OrdersTopicEvent.key(key), EventJson.object(value), value, limits);
        } catch (RuntimeException e) {
            throw InvalidRecordException.unreadable(e);
        }
    }

    /** As {@link #parse} for a value already read as JSON ({@code json} is {@code value} parsed). */
    static OrderEvent of(String key, JsonNode json, byte[] value, Limits limits) {
        String orderId = OrdersTopicEvent.orderId(key, json);
        long userId = EventJson.requiredLong(json, "user_id");
        if (userId <= 0) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE, "'user_id' must be positive");
        }
        String category = EventJson.requiredText(json, "category", MAX_CATEGORY_LENGTH);
        BigDecimal total = EventJson.requiredMoney(json, "total");
        if (total.compareTo(limits.maxTotal()) > 0) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'total' " + total.toPlainString() + " is above the plausible maximum "
                            + limits.maxTotal().toPlainString());
        }
        Instant createdAt = EventJson.requiredInstant(json, "timestamp");
        if (limits.latestEventTime() != null && createdAt.isAfter(limits.latestEventTime())) {
            throw new InvalidRecordException(InvalidRecordException.FUTURE_TIMESTAMP, "'timestamp' " + createdAt
                    + " is ahead of the time the record was written; the latest accepted is "
                    + limits.latestEventTime());
        }
        List<Item> items = items(json);
        checkAmount(items, limits.maxTotal());
        return new OrderEvent(orderId, userId, category, total, items == null ? null : count(items), items, createdAt,
                value);
    }

    /**
     * The same content as {@code other}: every field Readside reads, items in their order, totals and prices compared
     * as numbers (a copy that writes 10.5 as 10.50 is the same). A version stored before the orders table kept items
     * ({@code items} null, {@code itemCount} known) is not the same as one that lists them: the next version is a
     * change, once, and the row gets its items (as a rebuild, which replays both, has it).
     */
    public boolean sameContent(OrderEvent other) {
        return orderId.equals(other.orderId) && userId == other.userId && category.equals(other.category)
                && total.compareTo(other.total) == 0 && Objects.equals(itemCount, other.itemCount)
                && createdAt.equals(other.createdAt)
                && (items == null ? other.items == null : other.items != null && sameItems(other.items));
    }

    private boolean sameItems(List<Item> others) {
        if (items.size() != others.size()) {
            return false;
        }
        for (int i = 0; i < items.size(); i++) {
            if (!items.get(i).sameAs(others.get(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * The items' amounts (quantity times price) may add up to at most the plausible maximum of a total, as the total
     * itself: a read model that counts revenue per item (skus) would otherwise take up to 1e21 from one record.
     */
    private static void checkAmount(List<Item> items, BigDecimal max) {
        if (items == null) {
            return;
        }
        BigDecimal amount = BigDecimal.ZERO;
        for (Item item : items) {
            if (item.price() != null) {
                amount = amount.add(item.price().multiply(BigDecimal.valueOf(item.qty())));
            }
        }
        if (amount.compareTo(max) > 0) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE, "the items add up to "
                    + amount.toPlainString() + " (quantity times price), above the plausible maximum "
                    + max.toPlainString());
        }
    }

    private static int count(List<Item> items) {
        long count = 0;
        for (Item item : items) {
            count += item.qty();
        }
        if (count > Integer.MAX_VALUE) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE, "too many items");
        }
        return (int) count;
    }

    /** The items as listed; null when the event lists none. */
    private static List<Item> items(JsonNode json) {
        JsonNode items = json.get("items");
        if (items == null || items.isNull()) {
            return null;
        }
        if (!items.isArray()) {
            throw new InvalidRecordException(InvalidRecordException.WRONG_TYPE, "'items' must be an array");
        }
        if (items.size() > MAX_ITEMS) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'items' has " + items.size() + " entries; at most " + MAX_ITEMS + " are allowed");
        }
        List<Item> listed = new ArrayList<>(items.size());
        for (JsonNode item : items) {
            if (!item.isObject()) {
                throw new InvalidRecordException(InvalidRecordException.WRONG_TYPE, "each item must be an object");
            }
            int qty = EventJson.requiredInt(item, "qty", 1, MAX_QTY);
            String sku = item.hasNonNull("sku") ? EventJson.requiredText(item, "sku", MAX_SKU_LENGTH) : null;
            BigDecimal price = item.hasNonNull("price") ? EventJson.requiredMoney(item, "price") : null;
            listed.add(new Item(sku, qty, price));
        }
        return List.copyOf(listed);
    }

    @Override
    public String toString() {
        return "OrderEvent[" + Quote.of(orderId) + ", user " + userId + ", " + total.toPlainString() + "]";
    }
}
