package io.readside.web;

/**
 * An RFC 9457 problem body ({@code application/problem+json}), and the parsing of request parameters that answers
 * bad ones with it.
 */
public record Problem(String type, String title, int status, String detail) {

    public static final String MEDIA_TYPE = "application/problem+json";

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

    private static long parseLong(String name, String value) {
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest("'" + name + "' must be a whole number, got '" + value + "'");
        }
    }
}
