package io.readside.testing;

/** The events of the guide's Python producer, as JSON text. */
public final class GuideEvents {

    private GuideEvents() {
    }

    public static String signup(int id, long userId, String email, String timestamp) {
        return "{\"id\": %d, \"type\": \"user.signup\", \"user_id\": %d, \"email\": \"%s\", \"timestamp\": %s}"
                .formatted(id, userId, email, timestamp);
    }

    public static String emailChanged(long userId, String email, String timestamp) {
        return "{\"type\": \"user.email_changed\", \"user_id\": %d, \"email\": \"%s\", \"timestamp\": %s}"
                .formatted(userId, email, timestamp);
    }
}
