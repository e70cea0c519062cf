package io.readside.testing;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The topics' payload schemas ({@code src/main/resources/schemas}, JSON Schema 2020-12), checked with the networknt
 * validator. Values are read with numbers as exact decimals, as the projectors read them, so that {@code 12.505}
 * is not "a multiple of 0.01" by a double's rounding.
 */
public final class Contracts {

    /** Every topic that has a payload schema, by its default name; the file is {@code schemas/<topic>.json}. */
    public static final Set<String> TOPICS = Set.of("user-events", "orders", "payments", "processed-orders",
            "revenue-by-category", "payment-requests", "refund-requests");

    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    private static final JsonMapper EXACT = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    /** A whole number is expanded only up to this many digits (1e100000000 is not). */
    private static final int MAX_EXPANDED_DIGITS = 1000;
    private static final Map<String, Schema> SCHEMAS = new ConcurrentHashMap<>();

    private Contracts() {
    }

    public static boolean hasSchema(String topic) {
        return TOPICS.contains(topic);
    }

    /** The schema of a classpath file under {@code schemas/}. */
    public static Schema schemaFile(String file) {
        return SCHEMAS.computeIfAbsent(file, f -> REGISTRY.getSchema(SchemaLocation.of("classpath:schemas/" + f)));
    }

    /**
     * What is wrong with {@code value} as a record of {@code topic} (empty: valid). A null value is a tombstone,
     * valid on {@code user-events} only.
     */
    public static List<String> problems(String topic, byte[] value) {
        if (!hasSchema(topic)) {
            throw new IllegalArgumentException("no schema for topic " + topic);
        }
        if (value == null) {
            return topic.equals("user-events") ? List.of() : List.of("a null value (tombstone) on " + topic);
        }
        JsonNode json;
        try {
            json = EXACT.readTree(value);
        } catch (JacksonException e) {
            return List.of("not JSON: " + e.getOriginalMessage());
        }
        return problems(topic + ".json", json);
    }

    public static List<String> problems(String topic, String value) {
        return problems(topic, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    /** What is wrong with {@code json} against the schema file {@code file}. */
    public static List<String> problems(String file, JsonNode json) {
        List<Error> errors = schemaFile(file).validate(integralAsBigInteger(json));
        return errors.stream().map(Error::toString).toList();
    }

    /**
     * The same numbers, with every whole one written with a fraction or an exponent ({@code 12.0}, {@code 1e20}) as a
     * big integer: networknt 3.0.9 compares such a decimal with an integer bound through {@code asLong()}, which
     * throws beyond 64 bits. JSON Schema compares mathematical values, so nothing else changes.
     */
    private static JsonNode integralAsBigInteger(JsonNode json) {
        if (json.isBigDecimal()) {
            BigDecimal value = json.decimalValue();
            if ((long) value.precision() - value.scale() <= MAX_EXPANDED_DIGITS
                    && value.stripTrailingZeros().scale() <= 0) {
                return JsonNodeFactory.instance.numberNode(value.toBigIntegerExact());
            }
            return json;
        }
        if (json.isArray()) {
            ArrayNode copy = JsonNodeFactory.instance.arrayNode();
            json.forEach(item -> copy.add(integralAsBigInteger(item)));
            return copy;
        }
        if (json.isObject()) {
            ObjectNode copy = JsonNodeFactory.instance.objectNode();
            json.properties().forEach(member -> copy.set(member.getKey(), integralAsBigInteger(member.getValue())));
            return copy;
        }
        return json;
    }

    /** Reads JSON text as {@link #problems} does (exact decimals). */
    public static JsonNode read(String json) {
        return EXACT.readTree(json);
    }

    /** {@code json}, once {@link #requireValid checked}: for the tests that send with a producer of their own. */
    public static String valid(String topic, String json) {
        requireValid(topic, json == null ? null : json.getBytes(StandardCharsets.UTF_8));
        return json;
    }

    /** Fails when {@code value} is not a valid record of {@code topic} (a topic without a schema passes). */
    public static void requireValid(String topic, byte[] value) {
        if (!hasSchema(topic)) {
            return;
        }
        List<String> problems = problems(topic, value);
        if (!problems.isEmpty()) {
            String text = value == null ? "null" : new String(value, StandardCharsets.UTF_8);
            throw new AssertionError("a record for " + topic + " breaks its schema (schemas/" + topic + ".json): "
                    + problems + "\n  value: " + (text.length() > 300 ? text.substring(0, 300) + "…" : text)
                    + "\n  (a test that sends an invalid record on purpose uses TestProducer.sendInvalidOnPurpose)");
        }
    }
}
