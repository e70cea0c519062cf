package io.readside.users;

import java.time.Instant;

import com.fasterxml.jackson.databind.JsonNode;

import io.readside.projection.EventJson;
import io.readside.projection.InvalidRecordException;
import io.readside.values.Quote;

/**
 * One record of topic {@code user-events}, as the guide's producer sends it:
 * {@code {"id":7,"type":"user.signup","user_id":1007,"email":"user7@example.com","timestamp":1764230000.123}},
 * key = the user id as a string, exactly ({@code "7"}, not {@code "007"} or {@code "+7"}). A null value
 * (tombstone) erases the user; its key is checked by the same rule.
 */
public record UserEvent(Kind kind, long userId, String email, Instant occurredAt) {

    public enum Kind {
        SIGNUP, EMAIL_CHANGED, ERASED
    }

    public static final String SIGNUP = "user.signup";
    public static final String EMAIL_CHANGED = "user.email_changed";
    /** RFC 5321's limit on a forward path is 256 octets; this leaves room for odd but real addresses. */
    public static final int MAX_EMAIL_LENGTH = 320;
    static final int MAX_TYPE_LENGTH = 100;

    /** Reads a record; throws {@link InvalidRecordException} with the reason when it cannot be understood. */
    public static UserEvent parse(byte[] keyBytes, byte[] value) {
        try {
            return read(keyBytes, value);
        } catch (RuntimeException e) {
            throw InvalidRecordException.unreadable(e);
        }
    }

    private static UserEvent read(byte[] keyBytes, byte[] value) {
        if (keyBytes == null) {
            throw new InvalidRecordException(InvalidRecordException.MISSING_KEY,
                    "the key must be the user id (the topic is compacted by it)");
        }
        String key = EventJson.key(keyBytes, "a user id");
        if (value == null) {
            return new UserEvent(Kind.ERASED, userIdOf(key), null, null);
        }
        JsonNode json = EventJson.object(value);
        String type = EventJson.requiredText(json, "type", MAX_TYPE_LENGTH);
        Kind kind = switch (type) {
            case SIGNUP -> Kind.SIGNUP;
            case EMAIL_CHANGED -> Kind.EMAIL_CHANGED;
            default -> throw new InvalidRecordException(InvalidRecordException.UNKNOWN_TYPE,
                    "unknown type " + Quote.of(type) + ", expected " + SIGNUP + " or " + EMAIL_CHANGED);
        };
        long userId = EventJson.requiredLong(json, "user_id");
        if (userId <= 0) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE, "'user_id' must be positive");
        }
        if (!key.equals(Long.toString(userId))) {
            throw new InvalidRecordException(InvalidRecordException.KEY_MISMATCH,
                    "key " + Quote.of(key) + " is not the user_id " + userId);
        }
        String email = EventJson.requiredText(json, "email", MAX_EMAIL_LENGTH);
        return new UserEvent(kind, userId, email, EventJson.requiredInstant(json, "timestamp"));
    }

    /** A tombstone's key: a user id written as an event's key is ("7"), so that the same key names one user. */
    private static long userIdOf(String key) {
        try {
            long userId = Long.parseLong(key);
            if (userId > 0 && key.equals(Long.toString(userId))) {
                return userId;
            }
        } catch (NumberFormatException e) {
            // falls through to the rejection below
        }
        throw new InvalidRecordException(InvalidRecordException.KEY_MISMATCH,
                "tombstone key " + Quote.of(key) + " is not a user id written as a record's key is (e.g. \"7\")");
    }
}
