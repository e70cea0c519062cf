package io.readside.contracts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.readside.commands.saga.PaymentResult;
import io.readside.orders.OrderEvent;
import io.readside.orders.OrdersTopicEvent;
import io.readside.projection.InvalidRecordException;
import io.readside.testing.Contracts;
import io.readside.users.UserEvent;
import tools.jackson.databind.JsonNode;

/**
 * The schemas and the projectors' parsers agree over a table of cases: what a schema refuses, the parser refuses
 * (the record would be a dead letter), and what the parser accepts, the schema accepts. Each case is run through
 * both with the key set to the value's id, since a schema cannot see the key. The rules no schema can say (the
 * key, the clock skew, the deployment's max total, sizes in bytes, ...) are kept out of the table and shown apart,
 * in {@link #ruleNoSchemaCanSayIsTheParsersAlone}.
 */
class SchemasAgreeWithParsersTest {

    private static final OrderEvent.Limits LIMITS = new OrderEvent.Limits(new BigDecimal("999999999999.99"), null);
    private static final boolean ACCEPTED = true;
    private static final boolean REFUSED = false;

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cases")
    void schemaAndParserAgree(String topic, String what, String value, boolean accepted) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        List<String> problems = Contracts.problems(topic, bytes);
        String parser = parserVerdict(topic, keyFor(topic, value), bytes);
        assertEquals(accepted, problems.isEmpty(), "the schema " + (accepted ? "refuses " + problems : "accepts") + ": "
                + value);
        assertEquals(accepted, parser == null, "the parser " + (accepted ? "refuses (" + parser + ")" : "accepts")
                + ": " + value);
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        orderCases(cases);
        userCases(cases);
        paymentCases(cases);
        return cases.stream();
    }

    private static void orderCases(List<Arguments> cases) {
        Map<String, String> order = new LinkedHashMap<>();
        order.put("order_id", "\"o-1\"");
        order.put("user_id", "1007");
        order.put("category", "\"books\"");
        order.put("total", "12.50");
        order.put("timestamp", "1764230000.5");
        String orders = "orders";
        cases.add(Arguments.of(orders, "the guide's order", json(order), ACCEPTED));
        // money
        for (String total : List.of("\"12.50\"", "12.50000", "\"12.50000\"", "0", "-0", "\"-0.00\"", "999999999999.99",
                "\"999999999999.99\"", "\"000000000000001.5\"", "\"1e2\"", "\"+5\"", "1e2")) {
            cases.add(Arguments.of(orders, "total " + total, json(with(order, "total", total)), ACCEPTED));
        }
        for (String total : List.of("12.505", "\"12.505\"", "12.500000000000000001", "1e-400", "1e400", "-1", "\"-1\"",
                "-0.01", "1000000000000", "\"1000000000000\"", "\"12,50\"", "\"12.\"", "\".5\"", "\"\"", "\"abc\"",
                "\" 5\"", "\"\u0661\u0662\"", "true", "null", "[12.5]", "\"" + "0".repeat(38) + "1.5\"")) {
            cases.add(Arguments.of(orders, "total " + total, json(with(order, "total", total)), REFUSED));
        }
        cases.add(Arguments.of(orders, "no total", json(without(order, "total")), REFUSED));
        // event time
        for (String time : List.of("1764230000.123", "\"2026-11-27T10:00:00Z\"", "\"2026-11-27T11:00:00+01:00\"",
                "\"2026-11-27t10:00:00z\"", "\"2026-11-27T10:00:00.123456789Z\"", "0", "253370764800",
                "1764230000.123456789", "1764230000.500000000000", "\"2026-11-27T10:00:00-00:00\"")) {
            cases.add(Arguments.of(orders, "timestamp " + time, json(with(order, "timestamp", time)), ACCEPTED));
        }
        for (String time : List.of("253370764800.5", "-1", "1764230000.1234567891", "\"2026-11-27 10:00:00Z\"",
                "\"2026-11-27T10:00Z\"", "\"yesterday\"", "\"1764230000\"", "1e100", "true", "null",
                "\"+10000-01-01T00:00:00Z\"", "\"1969-12-31T23:59:59Z\"", "\"2026-11-27T10:00:00.1234567891Z\"",
                "\"2026-11-27T10:00:00+0100\"", "\"2026-13-01T10:00:00Z\"")) {
            cases.add(Arguments.of(orders, "timestamp " + time, json(with(order, "timestamp", time)), REFUSED));
        }
        // user id
        for (String user : List.of("12.0", "1e3", "9223372036854775807", "1")) {
            cases.add(Arguments.of(orders, "user_id " + user, json(with(order, "user_id", user)), ACCEPTED));
        }
        for (String user : List.of("0", "-5", "1.5", "\"1007\"", "9223372036854775808", "null", "1e20")) {
            cases.add(Arguments.of(orders, "user_id " + user, json(with(order, "user_id", user)), REFUSED));
        }
        // text
        cases.add(Arguments.of(orders, "category of 100", json(with(order, "category", quoted("c".repeat(100)))),
                ACCEPTED));
        cases.add(Arguments.of(orders, "category with ü and emoji",
                json(with(order, "category", "\"b\u00fcch\\ud83d\\udcda\"")), ACCEPTED));
        for (String category : List.of("\"\"", "\"   \"", "\"bo\\u0000oks\"", quoted("c".repeat(101)), "5", "null")) {
            cases.add(Arguments.of(orders, "category " + cut(category), json(with(order, "category", category)),
                    REFUSED));
        }
        cases.add(Arguments.of(orders, "order_id of 200", json(with(order, "order_id", quoted("o".repeat(200)))),
                ACCEPTED));
        for (String id : List.of("\".\"", "\"..\"", "\"o\\ufffd1\"", quoted("o".repeat(201)), "\"\"", "5", "\"a\\u0000\"")) {
            cases.add(Arguments.of(orders, "order_id " + cut(id), json(with(order, "order_id", id)), REFUSED));
        }
        cases.add(Arguments.of(orders, "no order_id", json(without(order, "order_id")), REFUSED));
        // items
        for (String items : List.of("null", "[]", "[{\"qty\":1}]", "[{\"sku\":null,\"qty\":1,\"price\":null}]",
                "[{\"sku\":\"b-1\",\"qty\":1000000,\"price\":\"6.25\"}]", items(1000),
                "[{\"sku\":\"b-1\",\"qty\":2,\"price\":6.25,\"colour\":\"red\"}]")) {
            cases.add(Arguments.of(orders, "items " + cut(items), json(with(order, "items", items)), ACCEPTED));
        }
        for (String items : List.of("[{\"qty\":0}]", "[{\"qty\":1000001}]", "[{\"sku\":\"\",\"qty\":1}]",
                "[{\"qty\":1,\"price\":\"1.234\"}]", "[{\"qty\":1,\"price\":-1}]", "{\"qty\":1}", "[5]", items(1001),
                "[{\"sku\":\"b\"}]", "[{\"qty\":1.5}]", "[{\"qty\":\"1\"}]", "[{\"sku\":" + quoted("s".repeat(101))
                        + ",\"qty\":1}]")) {
            cases.add(Arguments.of(orders, "items " + cut(items), json(with(order, "items", items)), REFUSED));
        }
        // type, cancel requests, unknown members, shape
        cases.add(Arguments.of(orders, "order.created", json(with(order, "type", "\"order.created\"")), ACCEPTED));
        cases.add(Arguments.of(orders, "type null", json(with(order, "type", "null")), ACCEPTED));
        cases.add(Arguments.of(orders, "type order.shipped", json(with(order, "type", "\"order.shipped\"")), REFUSED));
        cases.add(Arguments.of(orders, "type 5", json(with(order, "type", "5")), REFUSED));
        cases.add(Arguments.of(orders, "unknown members", json(with(with(order, "coupon", "\"X-1\""), "extra",
                "{\"nested\":[1,2,{\"deep\":null}]}")), ACCEPTED));
        Map<String, String> cancel = new LinkedHashMap<>();
        cancel.put("event_id", "\"5b1c0c3e\"");
        cancel.put("type", "\"order.cancel_requested\"");
        cancel.put("order_id", "\"o-1\"");
        cancel.put("timestamp", "\"2026-11-27T10:00:00Z\"");
        cases.add(Arguments.of(orders, "a cancel request", json(cancel), ACCEPTED));
        cases.add(Arguments.of(orders, "a cancel request without event_id", json(without(cancel, "event_id")), REFUSED));
        cases.add(Arguments.of(orders, "a cancel request, blank event_id", json(with(cancel, "event_id", "\" \"")),
                REFUSED));
        cases.add(Arguments.of(orders, "a cancel request without timestamp", json(without(cancel, "timestamp")),
                REFUSED));
        cases.add(Arguments.of(orders, "a cancel request for ..", json(with(cancel, "order_id", "\"..\"")), REFUSED));
        for (String notAnObject : List.of("[]", "\"o-1\"", "5", "null")) {
            cases.add(Arguments.of(orders, "value " + notAnObject, notAnObject, REFUSED));
        }
    }

    private static void userCases(List<Arguments> cases) {
        Map<String, String> signup = new LinkedHashMap<>();
        signup.put("id", "7");
        signup.put("type", "\"user.signup\"");
        signup.put("user_id", "1007");
        signup.put("email", "\"user7@example.com\"");
        signup.put("timestamp", "1764230000.123");
        String users = "user-events";
        cases.add(Arguments.of(users, "the guide's signup", json(signup), ACCEPTED));
        cases.add(Arguments.of(users, "an email change", json(with(without(signup, "id"), "type",
                "\"user.email_changed\"")), ACCEPTED));
        cases.add(Arguments.of(users, "ISO time", json(with(signup, "timestamp", "\"2026-11-27T10:00:00.5Z\"")),
                ACCEPTED));
        cases.add(Arguments.of(users, "email of 320", json(with(signup, "email", quoted("e".repeat(320)))), ACCEPTED));
        cases.add(Arguments.of(users, "unknown members", json(with(signup, "referrer", "{\"campaign\":\"x\"}")),
                ACCEPTED));
        cases.add(Arguments.of(users, "id of any kind (ignored)", json(with(signup, "id", "\"seven\"")), ACCEPTED));
        for (String type : List.of("\"user.renamed\"", "5", "\"\"", "null")) {
            cases.add(Arguments.of(users, "type " + type, json(with(signup, "type", type)), REFUSED));
        }
        for (String email : List.of(quoted("e".repeat(321)), "\"\"", "\" \"", "5", "null", "\"a\\u0000b\"")) {
            cases.add(Arguments.of(users, "email " + cut(email), json(with(signup, "email", email)), REFUSED));
        }
        for (String user : List.of("0", "-1", "\"1007\"", "1.5")) {
            cases.add(Arguments.of(users, "user_id " + user, json(with(signup, "user_id", user)), REFUSED));
        }
        for (String field : List.of("type", "user_id", "email", "timestamp")) {
            cases.add(Arguments.of(users, "no " + field, json(without(signup, field)), REFUSED));
        }
        cases.add(Arguments.of(users, "value []", "[]", REFUSED));
    }

    private static void paymentCases(List<Arguments> cases) {
        Map<String, String> result = new LinkedHashMap<>();
        result.put("order_id", "\"o-1\"");
        result.put("type", "\"payment.completed\"");
        result.put("timestamp", "1764230002.5");
        String payments = "payments";
        cases.add(Arguments.of(payments, "payment.completed", json(result), ACCEPTED));
        cases.add(Arguments.of(payments, "payment.failed with a reason", json(with(with(result, "type",
                "\"payment.failed\""), "reason", "\"card declined\"")), ACCEPTED));
        cases.add(Arguments.of(payments, "payment.refunded, reason null", json(with(with(result, "type",
                "\"payment.refunded\""), "reason", "null")), ACCEPTED));
        cases.add(Arguments.of(payments, "reason of 1000", json(with(result, "reason", quoted("r".repeat(1000)))),
                ACCEPTED));
        cases.add(Arguments.of(payments, "unknown members", json(with(result, "psp", "{\"id\":\"ch_1\"}")), ACCEPTED));
        cases.add(Arguments.of(payments, "type payment.pending", json(with(result, "type", "\"payment.pending\"")),
                REFUSED));
        cases.add(Arguments.of(payments, "reason blank", json(with(result, "reason", "\"\"")), REFUSED));
        cases.add(Arguments.of(payments, "reason of 1001", json(with(result, "reason", quoted("r".repeat(1001)))),
                REFUSED));
        cases.add(Arguments.of(payments, "order_id of 201", json(with(result, "order_id", quoted("o".repeat(201)))),
                REFUSED));
        cases.add(Arguments.of(payments, "timestamp 12.5e-10", json(with(result, "timestamp", "12.5e-10")), REFUSED));
        for (String field : List.of("order_id", "type", "timestamp")) {
            cases.add(Arguments.of(payments, "no " + field, json(without(result, field)), REFUSED));
        }
    }

    /**
     * The rules that live in the parser alone, one example each: the schema accepts the value, the parser refuses
     * it. Each is listed in asyncapi.yaml (info) and docs/events-and-contracts.md,
     * "Integrating".
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("parserOnlyRules")
    void ruleNoSchemaCanSayIsTheParsersAlone(String rule, String topic, byte[] key, String value, String reason) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        String schema = topic.startsWith("orders") ? "orders" : topic;
        assertTrue(Contracts.problems(schema, bytes).isEmpty(), "the schema accepts " + value);
        assertEquals(reason, parserVerdict(topic, key, bytes), rule);
    }

    static Stream<Arguments> parserOnlyRules() {
        String order = "{\"order_id\":\"o-1\",\"user_id\":1007,\"category\":\"books\",\"total\":%s,\"timestamp\":%s}";
        byte[] o1 = bytes("o-1");
        return Stream.of(
                Arguments.of("the key is the order id", "orders", bytes("o-2"), order.formatted("1", "1"),
                        InvalidRecordException.KEY_MISMATCH),
                Arguments.of("the key is the user id as Long.toString writes it", "user-events", bytes("01007"),
                        "{\"type\":\"user.signup\",\"user_id\":1007,\"email\":\"a@b\",\"timestamp\":1}",
                        InvalidRecordException.KEY_MISMATCH),
                Arguments.of("an order record has a key", "orders", null, order.formatted("1", "1"),
                        InvalidRecordException.MISSING_KEY),
                Arguments.of("no duplicate member names", "orders", o1,
                        "{\"order_id\":\"o-1\",\"user_id\":1,\"category\":\"b\",\"total\":1,\"total\":9,\"timestamp\":1}",
                        InvalidRecordException.MALFORMED_JSON),
                Arguments.of("no unpaired surrogate", "orders", o1,
                        "{\"order_id\":\"o-1\",\"user_id\":1,\"category\":\"b\\ud800\",\"total\":1,\"timestamp\":1}",
                        InvalidRecordException.INVALID_VALUE),
                Arguments.of("lengths in UTF-16 code units", "orders", o1, ("{\"order_id\":\"o-1\",\"user_id\":1,"
                        + "\"category\":\"%s\",\"total\":1,\"timestamp\":1}").formatted("\uD83D\uDCDA".repeat(60)),
                        InvalidRecordException.INVALID_VALUE),
                Arguments.of("blank as String.isBlank", "orders", o1,
                        "{\"order_id\":\"o-1\",\"user_id\":1,\"category\":\"\\u3000\",\"total\":1,\"timestamp\":1}",
                        InvalidRecordException.INVALID_VALUE),
                Arguments.of("an amount in exponent notation is checked by its value", "orders", o1,
                        order.formatted("\"1e-400\"", "1"), InvalidRecordException.INVALID_VALUE),
                Arguments.of("the date exists", "orders", o1, order.formatted("1", "\"2026-02-30T10:00:00Z\""),
                        InvalidRecordException.INVALID_VALUE),
                Arguments.of("the time range after the offset", "orders", o1,
                        order.formatted("1", "\"1970-01-01T00:30:00+01:00\""), InvalidRecordException.INVALID_VALUE),
                Arguments.of("the deployment's max total", "orders-with-default-limits", o1,
                        order.formatted("1000000.01", "1"), InvalidRecordException.INVALID_VALUE));
    }

    /** Null when the parser accepts the record, else its reason (what would tag the dead letter). */
    private static String parserVerdict(String topic, byte[] key, byte[] value) {
        try {
            switch (topic) {
                case "orders" -> OrdersTopicEvent.parse(key, value, LIMITS);
                case "orders-with-default-limits" -> OrdersTopicEvent.parse(key, value,
                        new OrderEvent.Limits(new BigDecimal("1000000"), null));
                case "user-events" -> UserEvent.parse(key, value);
                case "payments" -> PaymentResult.parse(key, value);
                default -> throw new IllegalArgumentException(topic);
            }
            return null;
        } catch (InvalidRecordException e) {
            return e.reason();
        }
    }

    /** The key a correct producer would send: the value's id (a schema cannot see keys). */
    private static byte[] keyFor(String topic, String value) {
        JsonNode json;
        try {
            json = Contracts.read(value);
        } catch (RuntimeException e) {
            return bytes("1");
        }
        JsonNode id = json.isObject() ? json.get(topic.equals("user-events") ? "user_id" : "order_id") : null;
        if (id == null) {
            return bytes("1");
        }
        if (id.isNumber()) {
            BigDecimal number = id.decimalValue();
            return bytes(number.scale() <= 0 || number.stripTrailingZeros().scale() <= 0
                    ? number.toBigInteger().toString() : number.toPlainString());
        }
        return bytes(id.isString() ? id.stringValue() : id.toString());
    }

    private static Map<String, String> with(Map<String, String> fields, String name, String rawJson) {
        Map<String, String> copy = new LinkedHashMap<>(fields);
        copy.put(name, rawJson);
        return copy;
    }

    private static Map<String, String> without(Map<String, String> fields, String name) {
        Map<String, String> copy = new LinkedHashMap<>(fields);
        copy.remove(name);
        return copy;
    }

    private static String json(Map<String, String> fields) {
        return fields.entrySet().stream().map(e -> "\"" + e.getKey() + "\":" + e.getValue())
                .collect(Collectors.joining(",", "{", "}"));
    }

    private static String items(int count) {
        return Stream.generate(() -> "{\"qty\":1}").limit(count).collect(Collectors.joining(",", "[", "]"));
    }

    private static String quoted(String text) {
        return "\"" + text + "\"";
    }

    private static String cut(String text) {
        return text.length() <= 30 ? text : text.substring(0, 30) + "…(" + text.length() + ")";
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static {
        assertFalse(ACCEPTED == REFUSED);
    }
}
