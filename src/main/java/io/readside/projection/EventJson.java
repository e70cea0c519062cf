package io.readside.projection;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reading the JSON of incoming events as a tolerant reader: unknown fields are ignored, required fields are checked
 * with a reason a person can act on. Numbers are read exactly (no double rounding of timestamps or money).
 */
public final class EventJson {

    // PostgreSQL keeps microseconds; the range keeps event times sane for timestamptz and for ISO-8601 output
    private static final Instant EARLIEST = Instant.parse("1970-01-01T00:00:00Z");
    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** An event of the guide is well under 1 KiB; a value above this is refused before it is parsed. */
    public static final int MAX_VALUE_BYTES = 64 * 1024;

    private EventJson() {
    }

    /** Parses a record value that must be one JSON object in UTF-8. */
    public static JsonNode object(byte[] value) {
        if (value.length > MAX_VALUE_BYTES) {
            throw new InvalidRecordException(InvalidRecordException.OVERSIZED,
                    "the value is " + value.length + " bytes; an event may have at most " + MAX_VALUE_BYTES);
        }
        try {
            StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(value));
        } catch (CharacterCodingException e) {
            throw new InvalidRecordException(InvalidRecordException.NOT_UTF8, "the value is not UTF-8 text");
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(value);
        } catch (JacksonException e) {
            throw new InvalidRecordException(InvalidRecordException.MALFORMED_JSON,
                    "the value is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new InvalidRecordException(InvalidRecordException.MALFORMED_JSON, "the value is not valid JSON");
        }
        if (node == null || !node.isObject()) {
            throw new InvalidRecordException(InvalidRecordException.MALFORMED_JSON, "the value is not a JSON object");
        }
        return node;
    }

    public static String requiredText(JsonNode event, String field) {
        JsonNode node = required(event, field);
        if (!node.isTextual()) {
            throw wrongType(field, "a string", node);
        }
        if (node.textValue().isBlank()) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE, "'" + field + "' is blank");
        }
        return node.textValue();
    }

    /** A whole number that fits a Java long; 12.0 is accepted as 12, 12.5 is not. */
    public static long requiredLong(JsonNode event, String field) {
        JsonNode node = required(event, field);
        if (!node.isNumber()) {
            throw wrongType(field, "a number", node);
        }
        try {
            return node.decimalValue().longValueExact();
        } catch (ArithmeticException e) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'" + field + "' must be a whole number that fits 64 bits, got " + node);
        }
    }

    /**
     * An event time: epoch seconds with a fraction (the guide's Python {@code time.time()}), or an ISO-8601 string.
     * Kept to the microsecond, as PostgreSQL stores it.
     */
    public static Instant requiredInstant(JsonNode event, String field) {
        JsonNode node = required(event, field);
        Instant instant;
        try {
            if (node.isNumber()) {
                BigDecimal seconds = node.decimalValue();
                long whole = seconds.setScale(0, RoundingMode.FLOOR).longValueExact();
                long nanos = seconds.subtract(BigDecimal.valueOf(whole)).movePointRight(9).longValue();
                instant = Instant.ofEpochSecond(whole, nanos);
            } else if (node.isTextual()) {
                instant = Instant.parse(node.textValue());
            } else {
                throw wrongType(field, "epoch seconds or an ISO-8601 string", node);
            }
        } catch (ArithmeticException | DateTimeException e) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'" + field + "' is not a usable time: " + node);
        }
        if (instant.isBefore(EARLIEST) || instant.isAfter(LATEST)) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'" + field + "' is outside 1970..9999: " + node);
        }
        return instant.truncatedTo(ChronoUnit.MICROS);
    }

    /** An exact decimal: a JSON number (read without double rounding) or a numeric string such as "6.25". */
    public static BigDecimal requiredDecimal(JsonNode event, String field) {
        JsonNode node = required(event, field);
        if (node.isNumber()) {
            return node.decimalValue();
        }
        if (node.isTextual()) {
            try {
                return new BigDecimal(node.textValue().strip());
            } catch (NumberFormatException e) {
                throw new InvalidRecordException(InvalidRecordException.WRONG_TYPE,
                        "'" + field + "' must be a decimal number, got \"" + node.textValue() + "\"");
            }
        }
        throw wrongType(field, "a decimal number", node);
    }

    /** A whole number between {@code min} and {@code max}. */
    public static int requiredInt(JsonNode event, String field, int min, int max) {
        long value = requiredLong(event, field);
        if (value < min || value > max) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'" + field + "' must be between " + min + " and " + max + ", got " + value);
        }
        return (int) value;
    }

    /** A text of at most {@code maxLength} characters. */
    public static String requiredText(JsonNode event, String field, int maxLength) {
        String text = requiredText(event, field);
        if (text.length() > maxLength) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'" + field + "' is longer than " + maxLength + " characters");
        }
        return text;
    }

    private static JsonNode required(JsonNode event, String field) {
        JsonNode node = event.get(field);
        if (node == null || node.isNull()) {
            throw new InvalidRecordException(InvalidRecordException.MISSING_FIELD, "'" + field + "' is required");
        }
        return node;
    }

    private static InvalidRecordException wrongType(String field, String expected, JsonNode actual) {
        return new InvalidRecordException(InvalidRecordException.WRONG_TYPE,
                "'" + field + "' must be " + expected + ", got " + actual.getNodeType().name().toLowerCase());
    }
}
