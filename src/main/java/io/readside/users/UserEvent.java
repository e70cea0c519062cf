package io.readside.users;

import java.time.Instant;

import com.fasterxml.jackson.databind.JsonNode;

import io.readside.projection.EventJson;
import io.readside.projection.InvalidRecordException;

/**
 * One record of topic {@code user-events}, as the guide's producer sends it:
 * {@code {"id":7,"type":"user.signup","user_id":1007,"email":"user7@example.com","timestamp":1764230000.123}},
 * key = the user id as a string. A null value (tombstone) erases the user.
 */
public record UserEvent(Kind kind, long userId, String email, Instant occurredAt) {

    public enum Kind {
        SIGNUP, EMAIL_CHANGED, ERASED
    }

    public static final String SIGNUP = "user.signup";
    public static final String EMAIL_CHANGED = "user.email_changed";

    /** Reads a record; throws {@link InvalidRecordException} with the reason when it cannot be understood. */
    public static UserEvent parse(String key, byte[] value) {
        if (key == null) {
            throw new InvalidRecordException(InvalidRecordException.MISSING_KEY,
                    "the key must be the user id (the topic is compacted by it)");
        }
        if (value == null) {
            return new UserEvent(Kind.ERASED, userIdOf(key), null, null);
        }
        JsonNode json = EventJson.object(value);
        String type = EventJson.requiredText(json, "type");
        Kind kind = switch (type) {
            case SIGNUP -> Kind.SIGNUP;
            case EMAIL_CHANGED -> Kind.EMAIL_CHANGED;
            default -> throw new InvalidRecordException(InvalidRecordException.UNKNOWN_TYPE,
                    "unknown type '" + type + "', expected " + SIGNUP + " or " + EMAIL_CHANGED);
        };
        long userId = EventJson.requiredLong(json, "user_id");
        if (userId <= 0) {
            throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE, "'user_id' must be positive");
        }
        if (!key.equals(Long.toString(userId))) {
            throw new InvalidRecordException(InvalidRecordException.KEY_MISMATCH,
                    "key '" + key + "' is not the user_id " + userId);
        }
        String email = EventJson.requiredText(json, "email");
        return new UserEvent(kind, userId, email, EventJson.requiredInstant(json, "timestamp"));
    }

    private static long userIdOf(String key) {
        try {
            long userId = Long.parseLong(key);
            if (userId > 0) {
                return userId;
            }
        } catch (NumberFormatException e) {
            // falls through to the rejection below
        }
        throw new InvalidRecordException(InvalidRecordException.INVALID_VALUE,
                "tombstone key '" + key + "' is not a user id");
    }
}
