package io.readside.web;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import com.fasterxml.jackson.annotation.JsonInclude;

import io.quarkus.runtime.annotations.RegisterForReflection;
import io.readside.values.Quote;
import io.readside.values.Text;
import io.readside.values.TimeBounds;

/**
 * An RFC 9457 problem body ({@code application/problem+json}), and the parsing of request parameters that answers
 * bad ones with it. A message names the parameter and quotes its value only through {@link Quote}.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Problem(String type, String title, int status, String detail, List<InvalidField> errors) {

    public static final String MEDIA_TYPE = "application/problem+json";

    private static final Pattern WHOLE_NUMBER = Pattern.compile("[+-]?[0-9]+");
    /** A sign and 19 digits: anything longer is out of range for a long and is not parsed. */
    private static final int MAX_LONG_LENGTH = 20;
    /** Longer than any ISO-8601 time with an offset and nanoseconds: not parsed at all. */
    private static final int MAX_TIME_LENGTH = 64;

    /** One bad field of a request body: its JSON path ({@code items[1].qty}) and what is wrong with it. */
    @RegisterForReflection
    public record InvalidField(String field, String message) {
    }

    public Problem(String type, String title, int status, String detail) {
        this(type, title, status, detail, List.of());
    }

    public static long positiveLong(String name, String value) {
        long parsed = parseLong(name, value);
        if (parsed <= 0) {
            throw ProblemException.badRequest("'" + name + "' must be a positive whole number, got " + Quote.of(value));
        }
        return parsed;
    }

    public static long nonNegativeLong(String name, String value) {
        long parsed = parseLong(name, value);
        if (parsed < 0) {
            throw ProblemException.badRequest("'" + name + "' must not be negative, got " + Quote.of(value));
        }
        return parsed;
    }

    /** An optional switch: absent is false; otherwise {@code true} or {@code false}. */
    public static boolean flag(String name, String value) {
        if (value == null || "false".equals(value)) {
            return false;
        }
        if (!"true".equals(value)) {
            throw ProblemException.badRequest("'" + name + "' must be true or false");
        }
        return true;
    }

    public static int intBetween(String name, String value, int min, int max) {
        long parsed = parseLong(name, value);
        if (parsed < min || parsed > max) {
            throw ProblemException.badRequest(
                    "'" + name + "' must be between " + min + " and " + max + ", got " + Quote.of(value));
        }
        return (int) parsed;
    }

    /** A required text: 1 to {@code maxLength} characters, no NUL, no unpaired surrogate ({@link Text}). */
    public static String text(String name, String value, int maxLength) {
        String problem = Text.problem(value, maxLength);
        if (problem != null) {
            throw ProblemException.badRequest("'" + name + "' " + problem);
        }
        // the server decodes percent-encoded bytes that are not UTF-8 (%FF) to U+FFFD: refused, not looked up as '?'
        if (value.indexOf('\uFFFD') >= 0) {
            throw ProblemException.badRequest("'" + name + "' is not UTF-8 text (percent-encoded bytes such as %FF, "
                    + "or U+FFFD) at position " + value.indexOf('\uFFFD'));
        }
        return value;
    }

    /** As {@link #text}, but empty is allowed (a cursor before the first row). */
    public static String optionalText(String name, String value, int maxLength) {
        return value.isEmpty() ? value : text(name, value, maxLength);
    }

    public static <E extends Enum<E>> E oneOf(String name, String value, Class<E> values) {
        String wanted = value.strip().toUpperCase(Locale.ROOT);
        for (E constant : values.getEnumConstants()) {
            if (constant.name().equals(wanted)) {
                return constant;
            }
        }
        throw ProblemException.badRequest("'" + name + "' must be one of " + Arrays.toString(values.getEnumConstants())
                + ", got " + Quote.of(value));
    }

    /** A required ISO-8601 time with an offset, within {@link TimeBounds}. */
    public static Instant instant(String name, String value) {
        if (value == null || value.isBlank()) {
            throw ProblemException.badRequest("'" + name + "' is required (ISO-8601, e.g. 2025-11-27T08:00:00Z)");
        }
        if (value.length() > MAX_TIME_LENGTH) {
            throw notATime(name, value);
        }
        Instant parsed;
        try {
            parsed = OffsetDateTime.parse(value.strip()).toInstant();
        } catch (DateTimeParseException e) {
            throw notATime(name, value);
        }
        if (!TimeBounds.contains(parsed)) {
            throw ProblemException.badRequest("'" + name + "' must be between " + TimeBounds.EARLIEST + " and "
                    + TimeBounds.LATEST + ", got " + Quote.of(value));
        }
        return parsed;
    }

    private static ProblemException notATime(String name, String value) {
        return ProblemException.badRequest(
                "'" + name + "' must be an ISO-8601 time such as 2025-11-27T08:00:00Z, got " + Quote.of(value));
    }

    private static ProblemException outOfRange(String name, String value) {
        return ProblemException.badRequest("'" + name + "' is out of range, got " + Quote.of(value));
    }

    private static long parseLong(String name, String value) {
        if (value == null || value.isBlank()) {
            throw ProblemException.badRequest("'" + name + "' is required (a whole number)");
        }
        String digits = value.strip();
        if (!WHOLE_NUMBER.matcher(digits).matches()) {
            throw ProblemException.badRequest("'" + name + "' must be a whole number, got " + Quote.of(value));
        }
        if (digits.length() > MAX_LONG_LENGTH) { // too long for a long: not parsed at all
            throw outOfRange(name, value);
        }
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) { // 19 digits above Long.MAX_VALUE
            throw outOfRange(name, value);
        }
    }
}
