package io.readside.security;

/**
 * The roles Readside reads from a token's {@code groups} claim; docs/http-and-security.md, "Security", says who holds
 * which.
 */
public final class Roles {

    /** Reads every read model: lists, other users' orders and profiles, revenue. */
    public static final String READER = "readside-reader";
    /** A service that places and cancels orders for any user. */
    public static final String ORDERS_WRITER = "orders-writer";
    /** Rebuilds read models, redrives dead letters, accepts a new log. */
    public static final String ADMIN = "readside-admin";

    private Roles() {
    }
}
