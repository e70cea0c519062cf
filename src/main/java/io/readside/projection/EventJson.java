package io.readside.projection;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.readside.values.Money;
import io.readside.values.Quote;
import io.readside.values.Text;
import io.readside.values.TimeBounds;

/**
 * Reading the JSON of incoming events (and of command bodies, which become such events) as a tolerant reader:
 * unknown fields are ignored, required fields are checked with a reason a person can act on. Every number is
 * checked by its size before any arithmetic, every text by {@link Text}'s rules; no message quotes more than
 * {@link Quote#MAX_CHARS} characters of the input.
 */
public final class EventJson {

    // PostgreSQL keeps microseconds; the range keeps event times, and the windows around them, ordinary
    // four-digit-year instants for timestamptz and for ISO-8601 output
    public static final Instant EARLIEST = TimeBounds.EARLIEST;
    public static final Instant LATEST = TimeBounds.LATEST_EVENT;
    /** Digits of a whole number of seconds up to {@link #LATEST} (253,370,764,800). */
    private static final int MAX_SECONDS_DIGITS = 12;
    /** Nanoseconds: the finest time an event may give. */
    private static final int MAX_SECONDS_SCALE = 9;
    private static final int MAX_INSTANT_TEXT = 40;

    // duplicate member names are refused: {"total":1.00,...,"total":900000.00} would be read one way here and
    // another by a first-wins or strict reader of the same bytes (processed-orders carries them)
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** An event of the guide is well under 1 KiB; a value above this is refused before it is parsed. */
    public static final int MAX_VALUE_BYTES = 64 * 1024;
    /** The longest text field read without a limit of its own (a type, an id). */
    public static final int MAX_TEXT_LENGTH = 1000;

    private EventJson() {
    }

    /** Parses a record value that must be one JSON object in UTF-8 of at most {@link #MAX_VALUE_BYTES}. */
    public static JsonNode object(byte[] value) {
        if (value.length > MAX_VALUE_BYTES) {
            throw new InvalidRecordException(InvalidRecordException.OVERSIZED,
                    "the value is " + value.length + " bytes; an event may have at most " + MAX_VALUE_BYTES);
        }
        if (!Text.isUtf8(value)) {
            throw new InvalidRecordException(InvalidRecordException.NOT_UTF8, "the value is not UTF-8 text");
        }
        // NUL bytes are UTF-8, but JSON has no raw NUL: they mean UTF-16 or UTF-32, which Jackson would detect and
        // read, while every byte offset (ExactJson) and copy assumes UTF-8
        for (int i = 0; i < value.length; i++) {
            if (value[i] == 0) {
                throw new InvalidRecordException(InvalidRecordException.NOT_UTF8, "the value has a NUL byte at " + i
                        + " (UTF-16 or UTF-32 text?); events are UTF-8 JSON");
            }
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(value);
        } catch (JacksonException e) {
            // Jackson's message may quote a token of the input: cut, and say where
            throw new InvalidRecordException(InvalidRecordException.MALFORMED_JSON, "the value is not valid JSON"
                    + (e.getLocation() == null ? "" : " at byte " + e.getLocation().getByteOffset()) + ": "
                    + Quote.of(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new InvalidRecordException(InvalidRecordException.MALFORMED_JSON, "the value is not valid JSON");
        } catch (RuntimeException e) {
            // e.g. NumberFormatException for 1e2147483648, an exponent beyond an int: never let one stop a channel
            throw new InvalidRecordException(InvalidRecordException.MALFORMED_JSON,
                    "the value could not be read as JSON (" + e.getClass().getSimpleName() + ")");
        }
        if (node == null || !node.isObject()) {
            throw new InvalidRecordException(InvalidRecordException.MALFORMED_JSON, "the value is not a JSON object");
        }
        return node;
    }

    /**
     * A record key as text: null for no key (the caller decides whether that is allowed); refused when the bytes are
     * not UTF-8, since such a key can be no id ({@code what}: "the order id", "a user id").
     */
    public static String key(byte[] key, String what) {
        if (key == null) {
            return null;
        }
        String text = Text.utf8(key);
        if (text == null) {
            throw new InvalidRecordException(InvalidRecordException.NOT_UTF8,
                    "the key (" + key.length + " bytes) is not UTF-8 text, so it cannot be " + what);
        }
        return text;
    }

    /** A text of 1 to {@link #MAX_TEXT_LENGTH} characters, storable as it is ({@link Text#problem}). */
    public static String requiredText(JsonNode event, String field) {
        return requiredText(event, field, MAX_TEXT_LENGTH);
    }

    /** A text of 1 to {@code maxLength} characters, storable as it is ({@link Text#problem}). */
    public static String requiredText(JsonNode event, String field, int maxLength) {
        JsonNode node = required(event, field);
        if (!node.isTextual()) {
            throw wrongType(field, "a string", node);
        }
        String problem = Text.problem(node.textValue(), maxLength);
        if (problem != null) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE, "'" + field + "' " + problem);
        }
        return node.textValue();
    }

    /** A whole number that fits a Java long; 12.0 is accepted as 12, 12.5 is not. */
    public static long requiredLong(JsonNode event, String field) {
        JsonNode node = required(event, field);
        if (!node.isNumber()) {
            throw wrongType(field, "a number", node);
        }
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            return node.longValue();
        }
        BigDecimal value = node.decimalValue();
        // 19 digits hold every long; a larger exponent is refused before anything is computed from it
        if ((long) value.precision() - value.scale() > 19) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'" + field + "' must be a whole number that fits 64 bits, got " + Quote.of(node));
        }
        try {
            return value.longValueExact();
        } catch (ArithmeticException e) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'" + field + "' must be a whole number that fits 64 bits, got " + Quote.of(node));
        }
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

    /**
     * An event time: epoch seconds with up to nine decimals (the guide's Python {@code time.time()}), or an
     * ISO-8601 string; between {@link #EARLIEST} and {@link #LATEST}. Kept to the microsecond, as PostgreSQL stores
     * it.
     */
    public static Instant requiredInstant(JsonNode event, String field) {
        JsonNode node = required(event, field);
        Instant instant;
        if (node.isNumber()) {
            instant = epochSeconds(field, node);
        } else if (node.isTextual()) {
            String text = node.textValue();
            if (text.length() > MAX_INSTANT_TEXT) {
                throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                        "'" + field + "' is not an ISO-8601 time: " + Quote.of(text));
            }
            try {
                instant = Instant.parse(text);
            } catch (DateTimeParseException e) {
                throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                        "'" + field + "' is not an ISO-8601 time such as 2026-11-27T10:00:00Z: " + Quote.of(text));
            }
        } else {
            throw wrongType(field, "epoch seconds or an ISO-8601 string", node);
        }
        if (instant.isBefore(EARLIEST) || instant.isAfter(LATEST)) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'" + field + "' is outside " + EARLIEST + " .. " + LATEST + ": " + Quote.of(node));
        }
        return instant.truncatedTo(ChronoUnit.MICROS);
    }

    private static Instant epochSeconds(String field, JsonNode node) {
        BigDecimal seconds = node.decimalValue();
        if (seconds.signum() < 0 || (long) seconds.precision() - seconds.scale() > MAX_SECONDS_DIGITS) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                    "'" + field + "' is outside " + EARLIEST + " .. " + LATEST + ": " + Quote.of(node));
        }
        if (seconds.scale() > MAX_SECONDS_SCALE) {
            seconds = seconds.stripTrailingZeros(); // bounded by the digits Jackson read (at most 1,000)
            if (seconds.scale() > MAX_SECONDS_SCALE) {
                throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                        "'" + field + "' has more than " + MAX_SECONDS_SCALE + " decimals (finer than a nanosecond)");
            }
        }
        BigInteger[] parts = seconds.movePointRight(MAX_SECONDS_SCALE).toBigIntegerExact()
                .divideAndRemainder(BigInteger.valueOf(1_000_000_000L));
        return Instant.ofEpochSecond(parts[0].longValueExact(), parts[1].longValueExact());
    }

    /**
     * Money: a JSON number (read without double rounding) or a numeric string such as "6.25", exact, with at most
     * two decimals ({@link Money#exact}).
     */
    public static BigDecimal requiredMoney(JsonNode event, String field) {
        JsonNode node = required(event, field);
        try {
            if (node.isNumber()) {
                return Money.exact(node.decimalValue());
            }
            if (node.isTextual()) {
                return Money.exact(node.textValue());
            }
        } catch (Money.InvalidAmountException e) {
            throw new InvalidRecordException(node.isTextual() && e.getMessage().startsWith("must be")
                    ? InvalidRecordException.WRONG_TYPE : InvalidRecordException.INVALID_VALUE,
                    "'" + field + "' " + e.getMessage() + ", got " + Quote.of(node.isTextual() ? node.textValue()
                            : node.toString()));
        }
        throw wrongType(field, "a decimal number", node);
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
