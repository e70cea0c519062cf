package io.readside.users.rest;

import java.time.Instant;

import io.readside.users.User;

/** {@code {"user_id":1007,"email":"user7@example.com","signed_up_at":"...","updated_at":"..."}} */
public record UserView(long userId, String email, Instant signedUpAt, Instant updatedAt) {

    static UserView of(User user) {
        return new UserView(user.userId, user.email, user.signedUpAt, user.updatedAt);
    }
}
