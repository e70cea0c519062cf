package io.readside.projection;

import java.util.List;

/**
 * A record that cannot be applied as it is, whatever is retried: it is set aside with its reason, and the channel
 * goes on. The reason is a short stable word, used as a metric tag.
 */
public class InvalidRecordException extends RuntimeException {

    public static final String MALFORMED_JSON = "malformed-json";
    public static final String NOT_UTF8 = "not-utf8";
    public static final String OVERSIZED = "oversized";
    public static final String MISSING_FIELD = "missing-field";
    public static final String WRONG_TYPE = "wrong-type";
    public static final String INVALID_VALUE = "invalid-value";
    public static final String UNKNOWN_TYPE = "unknown-type";
    public static final String MISSING_KEY = "missing-key";
    public static final String KEY_MISMATCH = "key-mismatch";
    public static final String REJECTED_BY_DATABASE = "rejected-by-database";
    public static final String FUTURE_TIMESTAMP = "future-timestamp";
    public static final String UNREADABLE = "unreadable";
    /** Every reason, for the metrics registered before the first record. */
    public static final List<String> REASONS = List.of(MALFORMED_JSON, NOT_UTF8, OVERSIZED, MISSING_FIELD, WRONG_TYPE,
            INVALID_VALUE, UNKNOWN_TYPE, MISSING_KEY, KEY_MISMATCH, REJECTED_BY_DATABASE, FUTURE_TIMESTAMP, UNREADABLE);

    /** A message longer than this is cut: it travels in a header of the dead letter and in the log. */
    public static final int MAX_MESSAGE_CHARS = 300;

    private final String reason;

    public InvalidRecordException(String reason, String message) {
        super(bounded(message));
        this.reason = reason;
    }

    public InvalidRecordException(String reason, String message, Throwable cause) {
        super(bounded(message), cause);
        this.reason = reason;
    }

    /**
     * Whatever else a parser throws (a bug, or a library's limit no rule foresaw) sets the record aside too, rather
     * than stopping its channel: reason {@code unreadable}, with the exception's class.
     */
    public static InvalidRecordException unreadable(RuntimeException e) {
        return e instanceof InvalidRecordException invalid ? invalid
                : new InvalidRecordException(UNREADABLE, "the record could not be read (" + e.getClass().getName()
                        + ")", e);
    }

    public String reason() {
        return reason;
    }

    private static String bounded(String message) {
        if (message == null || message.length() <= MAX_MESSAGE_CHARS) {
            return message;
        }
        int cut = Character.isHighSurrogate(message.charAt(MAX_MESSAGE_CHARS - 1)) ? MAX_MESSAGE_CHARS - 1
                : MAX_MESSAGE_CHARS;
        return message.substring(0, cut) + "… (" + message.length() + " characters)";
    }
}
