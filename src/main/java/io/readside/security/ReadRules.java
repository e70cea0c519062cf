package io.readside.security;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import io.readside.values.Quote;
import io.readside.web.Problem;
import io.readside.web.ProblemException;

/**
 * Who may read, where that depends on the request only (the caller and a user id it names), not on the data. The
 * resources apply these rules, and {@link ReadAuthorization} applies them before a read waits for a consistency token:
 * a caller who may not read something must not hold one of the {@code readside.consistency.max-waits} places for the
 * length of a wait (and learn its answer only after it).
 */
public final class ReadRules {

    /** Which rule a resource method applies; see {@link ReadAuthorization}. */
    public enum Rule {
        /** {@code GET /users/{userId}}: the user themselves or a {@value Roles#READER}; anyone else 404. */
        USER_PROFILE,
        /** {@code GET /orders?userId=}: a {@value Roles#READER}, or a user listing their own; anyone else 403. */
        ORDERS_LISTING,
        /**
         * {@code GET /orders/{orderId}}: a {@value Roles#READER} or a user (who may own it; the owner check needs the
         * order); a caller who is neither can read no order: 404, as for a missing one.
         */
        ORDER_VIEW
    }

    /** On a resource method: the rule it applies, checked before any consistency wait. */
    @Target(ElementType.METHOD)
    @Retention(RetentionPolicy.RUNTIME)
    public @interface CheckedBeforeWaiting {
        Rule value();
    }

    private ReadRules() {
    }

    /** The profile's user id; 404, exactly as for a missing user, when the caller may not read it. */
    public static long userProfile(Caller caller, String userId) {
        long id = Problem.positiveLong("userId", userId);
        if (!caller.isOr(id, Roles.READER)) {
            throw missingUser(id);
        }
        return id;
    }

    public static ProblemException missingUser(long id) {
        return ProblemException.notFound("No user " + id + " in the read model");
    }

    /** 404, exactly as for a missing order, when the caller can read no order at all. */
    public static void orderView(Caller caller, String orderId) {
        if (!caller.hasRole(Roles.READER) && caller.userId().isEmpty()) {
            throw ProblemException.notFound("No order " + Quote.of(orderId == null ? "" : orderId)
                    + " in the read model");
        }
    }

    /** The user whose orders are listed (null: everybody's); 403 when the caller may not list them. */
    public static Long ordersListing(Caller caller, String userId) {
        Long user = userId == null ? null : Problem.positiveLong("userId", userId);
        if (!caller.hasRole(Roles.READER) && (user == null || !caller.is(user))) {
            throw new ProblemException(403, "Forbidden", "listing orders needs role " + Roles.READER
                    + "; a user may list their own orders with userId set to their own id");
        }
        return user;
    }
}
