package io.readside.security;

import java.util.OptionalLong;

import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonNumber;
import jakarta.json.JsonString;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.jwt.JsonWebToken;

import io.quarkus.security.identity.SecurityIdentity;

/**
 * Who is calling, for the checks that depend on the data (an order's owner): the user id is the token's claim named
 * by {@code readside.security.user-id-claim} ({@code sub} by default) when it is a positive decimal number; a service
 * account's token has none and acts through its roles only. Use from endpoints annotated {@code @Authenticated} or
 * {@code @RolesAllowed}, whose identity is settled before the method runs.
 */
@RequestScoped
public class Caller {

    @Inject
    SecurityIdentity identity;
    @ConfigProperty(name = "readside.security.user-id-claim")
    String userIdClaim;

    /** The caller's user id; empty for a token without a numeric one. */
    public OptionalLong userId() {
        if (identity.isAnonymous() || !(identity.getPrincipal() instanceof JsonWebToken token)) {
            return OptionalLong.empty();
        }
        Object claim = token.getClaim(userIdClaim);
        // standard claims come as String; others as JSON values ("1007" or 1007)
        return userId(claim instanceof JsonString string ? string.getString()
                : claim instanceof String || claim instanceof JsonNumber || claim instanceof Number ? claim.toString()
                : null);
    }

    /**
     * A user id in its one canonical form only: ASCII digits without a leading zero, at most {@link Long#MAX_VALUE}.
     * {@code 01007} is not user 1007: the issuer tells subjects apart by their text, so two subjects must never
     * become one user here.
     */
    static OptionalLong userId(String text) {
        if (text == null || text.isEmpty() || text.length() > 19 || text.charAt(0) == '0'
                || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(text));
        } catch (NumberFormatException e) { // 19 digits above Long.MAX_VALUE
            return OptionalLong.empty();
        }
    }

    public boolean hasRole(String role) {
        return identity.hasRole(role);
    }

    /** Whether the caller is user {@code userId}. */
    public boolean is(long userId) {
        OptionalLong own = userId();
        return own.isPresent() && own.getAsLong() == userId;
    }

    /** The owner, or anyone holding {@code role}. */
    public boolean isOr(long owner, String role) {
        return is(owner) || hasRole(role);
    }

    /**
     * A name for logs and for scoping idempotency keys: the token's subject ({@code sub}), what the issuer tells
     * callers apart by. Not the principal's name, which smallrye-jwt takes from {@code upn} or
     * {@code preferred_username} first: two subjects sharing one of those would share each other's idempotency keys.
     */
    public String name() {
        if (identity.isAnonymous()) {
            return "";
        }
        if (identity.getPrincipal() instanceof JsonWebToken token && token.getSubject() != null) {
            return token.getSubject();
        }
        return identity.getPrincipal().getName();
    }
}
