package io.readside.web;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.annotation.JsonInclude;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * An RFC 9457 problem body ({@code application/problem+json}), and the parsing of request parameters that answers
 * bad ones with it.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Problem(String type, String title, int status, String detail, List<InvalidField> errors) {

    public static final String MEDIA_TYPE = "application/problem+json";

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
            throw ProblemException.badRequest("'" + name + "' must be a positive whole number, got '" + value + "'");
        }
        return parsed;
    }

    public static long nonNegativeLong(String name, String value) {
        long parsed = parseLong(name, value);
        if (parsed < 0) {
            throw ProblemException.badRequest("'" + name + "' must not be negative, got '" + value + "'");
        }
        return parsed;
    }

    public static int intBetween(String name, String value, int min, int max) {
        long parsed = parseLong(name, value);
        if (parsed < min || parsed > max) {
            throw ProblemException.badRequest(
                    "'" + name + "' must be between " + min + " and " + max + ", got '" + value + "'");
        }
        return (int) parsed;
    }

    public static String text(String name, String value, int maxLength) {
        if (value == null || value.isBlank() || value.length() > maxLength) {
            throw ProblemException.badRequest("'" + name + "' must be 1 to " + maxLength + " characters");
        }
        return value;
    }

    public static <E extends Enum<E>> E oneOf(String name, String value, Class<E> values) {
        try {
            return Enum.valueOf(values, value.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest("'" + name + "' must be one of "
                    + Arrays.toString(values.getEnumConstants()) + ", got '" + value + "'");
        }
    }

    public static Instant instant(String name, String value) {
        if (value == null || value.isBlank()) {
            throw ProblemException.badRequest("'" + name + "' is required (ISO-8601, e.g. 2025-11-27T08:00:00Z)");
        }
        try {
            return OffsetDateTime.parse(value.strip()).toInstant();
        } catch (DateTimeParseException e) {
            throw ProblemException.badRequest(
                    "'" + name + "' must be an ISO-8601 time such as 2025-11-27T08:00:00Z, got '" + value + "'");
        }
    }

    private static long parseLong(String name, String value) {
        if (value == null || value.isBlank()) {
            throw ProblemException.badRequest("'" + name + "' is required (a whole number)");
        }
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest("'" + name + "' must be a whole number, got '" + value + "'");
        }
    }
}
