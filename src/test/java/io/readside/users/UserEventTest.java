package io.readside.users;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.readside.projection.InvalidRecordException;
import io.readside.testing.GuideEvents;

/** Pure logic: how a record of user-events is read, and why a record is refused. */
class UserEventTest {

    @Test
    void readsTheGuidesSignupWithItsFractionalTimestampExactly() {
        UserEvent event = parse("1007", GuideEvents.signup(7, 1007, "user7@example.com", "1764230000.123"));

        assertEquals(new UserEvent(UserEvent.Kind.SIGNUP, 1007, "user7@example.com",
                Instant.parse("2025-11-27T07:53:20.123Z")), event);
    }

    @Test
    void keepsMicrosecondsOfPythonTimestampsAndDropsWhatPostgresqlCannotStore() {
        UserEvent event = parse("1", GuideEvents.signup(1, 1, "a@example.com", "1764230000.123456789"));

        assertEquals(Instant.parse("2025-11-27T07:53:20.123456Z"), event.occurredAt());
    }

    @Test
    void acceptsIsoTimestampsAndIgnoresUnknownFields() {
        UserEvent event = parse("5", """
                {"type":"user.email_changed","user_id":5,"email":"new@example.com",
                 "timestamp":"2025-11-27T08:00:00Z","source":"crm","nested":{"x":[1,2]}}""");

        assertEquals(new UserEvent(UserEvent.Kind.EMAIL_CHANGED, 5, "new@example.com",
                Instant.parse("2025-11-27T08:00:00Z")), event);
    }

    @Test
    void tombstoneErasesTheUserOfTheKey() {
        UserEvent event = UserEvent.parse(bytes("1007"), null);

        assertEquals(UserEvent.Kind.ERASED, event.kind());
        assertEquals(1007, event.userId());
        assertNull(event.email());
    }

    @Test
    void refusesEachKindOfBadRecordWithItsReason() {
        assertReason(InvalidRecordException.MALFORMED_JSON, "1", "{\"type\":\"user.signup\",");
        assertReason(InvalidRecordException.MALFORMED_JSON, "1", "[1,2,3]");
        assertReason(InvalidRecordException.MALFORMED_JSON, "1", "{} {}");
        assertReason(InvalidRecordException.MISSING_FIELD, "1",
                "{\"type\":\"user.signup\",\"user_id\":1,\"timestamp\":1764230000}");
        assertReason(InvalidRecordException.MISSING_FIELD, "1",
                "{\"user_id\":1,\"email\":\"a@b\",\"timestamp\":1764230000}");
        assertReason(InvalidRecordException.WRONG_TYPE, "1",
                "{\"type\":\"user.signup\",\"user_id\":\"one\",\"email\":\"a@b\",\"timestamp\":1764230000}");
        assertReason(InvalidRecordException.INVALID_VALUE, "1",
                "{\"type\":\"user.signup\",\"user_id\":1.5,\"email\":\"a@b\",\"timestamp\":1764230000}");
        assertReason(InvalidRecordException.INVALID_VALUE, "1",
                "{\"type\":\"user.signup\",\"user_id\":1,\"email\":\"a@b\",\"timestamp\":1e15}");
        assertReason(InvalidRecordException.INVALID_VALUE, "1",
                "{\"type\":\"user.signup\",\"user_id\":1,\"email\":\"  \",\"timestamp\":1764230000}");
        assertReason(InvalidRecordException.UNKNOWN_TYPE, "1",
                "{\"type\":\"user.deleted\",\"user_id\":1,\"email\":\"a@b\",\"timestamp\":1764230000}");
        assertReason(InvalidRecordException.KEY_MISMATCH, "2", GuideEvents.signup(1, 1, "a@b", "1764230000"));
        assertReason(InvalidRecordException.MISSING_KEY, null, GuideEvents.signup(1, 1, "a@b", "1764230000"));
    }

    @Test
    void refusesBytesThatAreNotUtf8() {
        byte[] latin1 = "{\"email\":\"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);

        InvalidRecordException e = assertThrows(InvalidRecordException.class, () -> UserEvent.parse(bytes("1"), latin1));
        assertEquals(InvalidRecordException.NOT_UTF8, e.reason());
    }

    @Test
    void refusesATombstoneWhoseKeyIsNotExactlyAUserId() {
        for (String key : new String[] { "abc", "007", "+7", " 7", "0", "-7" }) {
            InvalidRecordException e = assertThrows(InvalidRecordException.class,
                    () -> UserEvent.parse(bytes(key), null), key);
            assertEquals(InvalidRecordException.KEY_MISMATCH, e.reason(), key);
        }
    }

    @Test
    void refusesAKeyThatIsNotUtf8ForAnEventAndATombstoneAlike() {
        byte[] key = { (byte) 0xff, '7' };
        byte[] signup = GuideEvents.signup(1, 7, "a@b", "1764230000").getBytes(StandardCharsets.UTF_8);

        assertEquals(InvalidRecordException.NOT_UTF8,
                assertThrows(InvalidRecordException.class, () -> UserEvent.parse(key, signup)).reason());
        assertEquals(InvalidRecordException.NOT_UTF8,
                assertThrows(InvalidRecordException.class, () -> UserEvent.parse(key, null)).reason());
    }

    @Test
    void refusesAnEmailThatCannotBeStoredAsItIs() {
        assertReason(InvalidRecordException.INVALID_VALUE, "1", GuideEvents.signup(1, 1, "x\\ud800y@example.com", "1764230000"));
        assertReason(InvalidRecordException.INVALID_VALUE, "1", GuideEvents.signup(1, 1, "x\\u0000y@example.com", "1764230000"));
        assertReason(InvalidRecordException.INVALID_VALUE, "1",
                GuideEvents.signup(1, 1, "a".repeat(UserEvent.MAX_EMAIL_LENGTH) + "@b", "1764230000"));
    }

    @Test
    void refusesAHugeTimestampByItsSizeWithoutComputingIt() {
        String[] hostile = { "1e100000000", "-1e2000000", "1e-100000000", "1764230000.0000000001", "99999999999999",
                "1e2147483648" };
        for (String timestamp : hostile) {
            InvalidRecordException e = assertThrows(InvalidRecordException.class,
                    () -> parse("1", GuideEvents.signup(1, 1, "a@b", timestamp)), timestamp);
            assertTrue(Set.of(InvalidRecordException.INVALID_VALUE, InvalidRecordException.MALFORMED_JSON)
                    .contains(e.reason()), timestamp + " -> " + e.reason());
            assertTrue(e.getMessage().length() < 200, e.getMessage());
        }
    }

    private static byte[] bytes(String key) {
        return key == null ? null : key.getBytes(StandardCharsets.UTF_8);
    }

    private static UserEvent parse(String key, String json) {
        return UserEvent.parse(bytes(key), json.getBytes(StandardCharsets.UTF_8));
    }

    private static void assertReason(String reason, String key, String json) {
        InvalidRecordException e = assertThrows(InvalidRecordException.class, () -> parse(key, json), json);
        assertEquals(reason, e.reason(), () -> json + " -> " + e.getMessage());
    }
}
