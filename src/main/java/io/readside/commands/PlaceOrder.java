package io.readside.commands;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

import io.readside.web.Problem.InvalidField;
import io.readside.web.ProblemException;

/**
 * The body of {@code POST /orders}: {@code {"user_id":1007,"category":"books","items":[{"sku":"b-1","qty":2,
 * "price":"6.25"}]}}, or a {@code "total"} instead of (or as well as) priced items. Validation names every bad
 * field. The user is not checked against the users read model: it is fed by another topic and may not have applied
 * a signup the caller just made, and the guide's producer writes orders for any user id too.
 */
public record PlaceOrder(long userId, String category, List<Item> items, BigDecimal total) {

    /** A line of the order; {@code price} (per unit) may be absent when the order gives its total. */
    public record Item(String sku, int qty, BigDecimal price) {
    }

    static final int MAX_CATEGORY_LENGTH = 100;
    static final int MAX_SKU_LENGTH = 100;
    static final int MAX_ITEMS = 1000;
    static final int MAX_QTY = 1_000_000;
    private static final Set<String> FIELDS = Set.of("user_id", "category", "items", "total");
    private static final Set<String> ITEM_FIELDS = Set.of("sku", "qty", "price");

    /** Reads and validates the body; throws a 400 problem listing every invalid field. */
    public static PlaceOrder parse(JsonNode body, BigDecimal maxTotal) {
        if (body == null || !body.isObject()) {
            throw ProblemException.badRequest("the body must be a JSON object such as "
                    + "{\"user_id\":1007,\"category\":\"books\",\"items\":[{\"sku\":\"b-1\",\"qty\":2,\"price\":\"6.25\"}]}");
        }
        List<InvalidField> errors = new ArrayList<>();
        for (Iterator<String> names = body.fieldNames(); names.hasNext();) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                errors.add(new InvalidField(name, "unknown field; an order has user_id, category, items and total"));
            }
        }
        long userId = 0;
        JsonNode user = body.get("user_id");
        if (user == null || user.isNull()) {
            errors.add(new InvalidField("user_id", "is required"));
        } else if (!user.canConvertToExactIntegral() || !user.canConvertToLong() || user.asLong() <= 0) {
            errors.add(new InvalidField("user_id", "must be a positive whole number, got " + user));
        } else {
            userId = user.asLong();
        }
        String category = null;
        JsonNode categoryNode = body.get("category");
        if (categoryNode == null || categoryNode.isNull()) {
            errors.add(new InvalidField("category", "is required"));
        } else if (!categoryNode.isTextual() || categoryNode.textValue().isBlank()
                || categoryNode.textValue().length() > MAX_CATEGORY_LENGTH) {
            errors.add(new InvalidField("category", "must be text of 1 to " + MAX_CATEGORY_LENGTH + " characters"));
        } else {
            category = categoryNode.textValue().strip();
        }
        List<Item> items = items(body.get("items"), errors);
        BigDecimal total = null;
        JsonNode totalNode = body.get("total");
        if (totalNode != null && !totalNode.isNull()) {
            total = money("total", totalNode, errors);
        }
        boolean allPriced = items != null && items.stream().allMatch(item -> item.price() != null);
        if (total == null && totalNode == null && (items == null || !allPriced) && !hasError(errors, "items")) {
            errors.add(new InvalidField(items == null ? "total" : "items",
                    items == null ? "give items or a total" : "every item needs a price, or give a total"));
        }
        if (allPriced && !hasError(errors, "items")) {
            BigDecimal sum = items.stream().map(item -> item.price().multiply(BigDecimal.valueOf(item.qty())))
                    .reduce(BigDecimal.ZERO, BigDecimal::add).setScale(2, RoundingMode.UNNECESSARY);
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
            throw ProblemException.invalidFields(errors);
        }
        return new PlaceOrder(userId, category, items, total);
    }

    private static List<Item> items(JsonNode node, List<InvalidField> errors) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isArray() || node.isEmpty() || node.size() > MAX_ITEMS) {
            errors.add(new InvalidField("items", "must be an array of 1 to " + MAX_ITEMS + " items"));
            return null;
        }
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode item = node.get(i);
            String at = "items[" + i + "]";
            if (!item.isObject()) {
                errors.add(new InvalidField(at, "must be an object {\"sku\",\"qty\",\"price\"}"));
                continue;
            }
            for (Iterator<String> names = item.fieldNames(); names.hasNext();) {
                String name = names.next();
                if (!ITEM_FIELDS.contains(name)) {
                    errors.add(new InvalidField(at + "." + name, "unknown field; an item has sku, qty and price"));
                }
            }
            int before = errors.size();
            JsonNode sku = item.get("sku");
            if (sku == null || !sku.isTextual() || sku.textValue().isBlank() || sku.textValue().length() > MAX_SKU_LENGTH) {
                errors.add(new InvalidField(at + ".sku", "must be text of 1 to " + MAX_SKU_LENGTH + " characters"));
            }
            JsonNode qty = item.get("qty");
            if (qty == null || !qty.canConvertToExactIntegral() || !qty.canConvertToInt() || qty.asInt() < 1
                    || qty.asInt() > MAX_QTY) {
                errors.add(new InvalidField(at + ".qty", "must be a whole number from 1 to " + MAX_QTY));
            }
            JsonNode priceNode = item.get("price");
            BigDecimal price = priceNode == null || priceNode.isNull() ? null
                    : money(at + ".price", priceNode, errors);
            if (errors.size() == before) {
                items.add(new Item(sku.textValue().strip(), qty.asInt(), price));
            }
        }
        return items.size() == node.size() ? items : null;
    }

    /** Not negative, at most cents; a JSON number or a numeric string ("6.25"). */
    private static BigDecimal money(String field, JsonNode node, List<InvalidField> errors) {
        BigDecimal amount;
        if (node.isNumber()) {
            amount = node.decimalValue();
        } else if (node.isTextual()) {
            try {
                amount = new BigDecimal(node.textValue().strip());
            } catch (NumberFormatException e) {
                errors.add(new InvalidField(field, "must be a decimal amount such as 6.25, got " + node));
                return null;
            }
        } else {
            errors.add(new InvalidField(field, "must be a decimal amount such as 6.25, got " + node));
            return null;
        }
        if (amount.signum() < 0) {
            errors.add(new InvalidField(field, "must not be negative, got " + amount.toPlainString()));
            return null;
        }
        try {
            return amount.setScale(2, RoundingMode.UNNECESSARY);
        } catch (ArithmeticException e) {
            errors.add(new InvalidField(field, "has more than 2 decimals: " + amount.toPlainString()));
            return null;
        }
    }

    private static boolean hasError(List<InvalidField> errors, String prefix) {
        return errors.stream().anyMatch(error -> error.field().startsWith(prefix));
    }
}
