package io.readside.commands;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;

import io.readside.orders.OrderEvent;
import io.readside.projection.EventJson;
import io.readside.projection.InvalidRecordException;
import io.readside.values.Quote;
import io.readside.values.Text;
import io.readside.web.Problem.InvalidField;
import io.readside.web.ProblemException;

/**
 * The body of {@code POST /orders}: {@code {"user_id":1007,"category":"books","items":[{"sku":"b-1","qty":2,
 * "price":"6.25"}]}}, or a {@code "total"} instead of (or as well as) priced items. Each field is checked by the
 * rules the orders projector applies to the event ({@link EventJson}: exact money with at most two decimals, text
 * without NUL or unpaired surrogates, sizes before arithmetic), and the validation names every bad field. The user
 * is not checked against the users read model: it is fed by another topic and may not have applied a signup the
 * caller just made, and the guide's producer writes orders for any user id too.
 */
public record PlaceOrder(long userId, String category, List<Item> items, BigDecimal total) {

    /** A line of the order; {@code price} (per unit) may be absent when the order gives its total. */
    public record Item(String sku, int qty, BigDecimal price) {
    }

    /** A body naming more bad fields than this lists the first ones. */
    static final int MAX_ERRORS = 20;
    private static final Set<String> FIELDS = Set.of("user_id", "category", "items", "total");
    private static final Set<String> ITEM_FIELDS = Set.of("sku", "qty", "price");

    /** Reads and validates the body; throws a 400 problem listing every invalid field. */
    public static PlaceOrder parse(JsonNode body, BigDecimal maxTotal) {
        if (body == null || !body.isObject()) {
            throw ProblemException.badRequest("the body must be a JSON object such as "
                    + "{\"user_id\":1007,\"category\":\"books\",\"items\":[{\"sku\":\"b-1\",\"qty\":2,\"price\":\"6.25\"}]}");
        }
        List<InvalidField> errors = new ArrayList<>();
        unknownFields(body, "", FIELDS, "an order has user_id, category, items and total", errors);
        Long userId = field(errors, "user_id", () -> {
            long id = EventJson.requiredLong(body, "user_id");
            if (id <= 0) {
                throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE, "'user_id' must be positive");
            }
            return id;
        });
        String category = field(errors, "category",
                () -> EventJson.requiredText(body, "category", OrderEvent.MAX_CATEGORY_LENGTH));
        List<Item> items = items(body.get("items"), errors);
        JsonNode totalNode = body.get("total");
        BigDecimal total = totalNode == null || totalNode.isNull() ? null
                : field(errors, "total", () -> EventJson.requiredMoney(body, "total"));
        boolean allPriced = items != null && items.stream().allMatch(item -> item.price() != null);
        if (total == null && totalNode == null && (items == null || !allPriced) && !hasError(errors, "items")) {
            errors.add(new InvalidField(items == null ? "total" : "items",
                    items == null ? "give items or a total" : "every item needs a price, or give a total"));
        }
        if (allPriced && !hasError(errors, "items")) {
            // at most 1,000 items of 12-digit prices and 7-digit quantities: bounded arithmetic
            BigDecimal sum = items.stream().map(item -> item.price().multiply(BigDecimal.valueOf(item.qty())))
                    .reduce(BigDecimal.ZERO, BigDecimal::add);
            if (total != null && total.compareTo(sum) != 0) {
                errors.add(new InvalidField("total", "is " + total.toPlainString() + " but the items add up to "
                        + sum.toPlainString()));
            }
            total = total == null ? sum : total;
        }
        if (total != null && total.compareTo(maxTotal) > 0) {
            errors.add(new InvalidField("total", "is " + total.toPlainString() + ", above the maximum of "
                    + maxTotal.toPlainString()));
        }
        if (!errors.isEmpty()) {
            throw ProblemException.invalidFields(errors.size() <= MAX_ERRORS ? errors : errors.subList(0, MAX_ERRORS));
        }
        return new PlaceOrder(userId, category, items, total);
    }

    private static List<Item> items(JsonNode node, List<InvalidField> errors) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isArray() || node.isEmpty() || node.size() > OrderEvent.MAX_ITEMS) {
            errors.add(new InvalidField("items", "must be an array of 1 to " + OrderEvent.MAX_ITEMS + " items"));
            return null;
        }
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < node.size() && errors.size() <= MAX_ERRORS; i++) {
            JsonNode item = node.get(i);
            String at = "items[" + i + "]";
            if (!item.isObject()) {
                errors.add(new InvalidField(at, "must be an object {\"sku\",\"qty\",\"price\"}"));
                continue;
            }
            unknownFields(item, at + ".", ITEM_FIELDS, "an item has sku, qty and price", errors);
            int before = errors.size();
            String sku = field(errors, at + ".sku",
                    () -> EventJson.requiredText(item, "sku", OrderEvent.MAX_SKU_LENGTH));
            Integer qty = field(errors, at + ".qty",
                    () -> EventJson.requiredInt(item, "qty", 1, OrderEvent.MAX_QTY));
            BigDecimal price = item.hasNonNull("price")
                    ? field(errors, at + ".price", () -> EventJson.requiredMoney(item, "price")) : null;
            if (errors.size() == before) {
                items.add(new Item(sku, qty, price));
            }
        }
        return items.size() == node.size() ? items : null;
    }

    /** The field's value by the projector's rule; on a refusal, the reason is added to {@code errors}. */
    private static <T> T field(List<InvalidField> errors, String field, Supplier<T> rule) {
        try {
            return rule.get();
        } catch (InvalidRecordException e) {
            errors.add(new InvalidField(field, e.getMessage()));
            return null;
        }
    }

    private static void unknownFields(JsonNode object, String prefix, Set<String> known, String hint,
            List<InvalidField> errors) {
        for (Iterator<String> names = object.fieldNames(); names.hasNext() && errors.size() <= MAX_ERRORS;) {
            String name = names.next();
            if (!known.contains(name)) {
                String shown = name.length() <= Quote.MAX_CHARS && Text.unstorable(name) == null ? name
                        : Quote.of(name);
                errors.add(new InvalidField(prefix + shown, "unknown field; " + hint));
            }
        }
    }

    private static boolean hasError(List<InvalidField> errors, String prefix) {
        return errors.stream().anyMatch(error -> error.field().startsWith(prefix));
    }
}
