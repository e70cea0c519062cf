package io.readside.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.jose4j.jwt.JwtClaims;
import org.junit.jupiter.api.Test;

import io.smallrye.jwt.auth.principal.DefaultJWTCallerPrincipal;
import io.smallrye.jwt.auth.principal.JWTCallerPrincipal;

/** Pure: which verified tokens are used again, and for how long, on a clock the test moves. */
class VerifiedTokensTest {

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final AtomicLong wallSeconds = new AtomicLong(1_800_000_000L);
    private final Object settings = new Object();

    private VerifiedTokens tokens(Duration maxAge, long maxChars) {
        return new VerifiedTokens(maxAge, maxChars, nanos::get, wallSeconds::get);
    }

    private JWTCallerPrincipal expiringIn(long seconds) {
        JwtClaims claims = new JwtClaims();
        claims.setSubject("1001");
        claims.setIssuedAt(org.jose4j.jwt.NumericDate.fromSeconds(wallSeconds.get()));
        claims.setExpirationTime(org.jose4j.jwt.NumericDate.fromSeconds(wallSeconds.get() + seconds));
        return new DefaultJWTCallerPrincipal("t", claims);
    }

    private void later(long seconds) {
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
        wallSeconds.addAndGet(seconds);
    }

    @Test
    void aVerifiedTokenIsUsedAgainForAtMostTheMaxAge() {
        VerifiedTokens tokens = tokens(Duration.ofSeconds(60), VerifiedTokens.MAX_CHARS);
        JWTCallerPrincipal principal = expiringIn(3600);
        tokens.verified("token-a", settings, principal);
        later(59);
        assertSame(principal, tokens.get("token-a", settings));
        later(2);
        assertNull(tokens.get("token-a", settings), "verified 61 s ago: verified again");
    }

    @Test
    void aTokenIsNeverUsedPastItsExpiryEvenWhenTheWallClockJumps() {
        VerifiedTokens tokens = tokens(Duration.ofSeconds(60), VerifiedTokens.MAX_CHARS);
        tokens.verified("token-b", settings, expiringIn(10));
        later(11);
        assertNull(tokens.get("token-b", settings), "kept no longer than its exp");
        tokens.verified("token-c", settings, expiringIn(30));
        wallSeconds.addAndGet(31); // the wall clock moves on, the monotonic one does not (an NTP step)
        assertNull(tokens.get("token-c", settings), "its exp is judged on the wall clock too");
    }

    @Test
    void anExpiredTokenIsNotKeptAtAll() {
        VerifiedTokens tokens = tokens(Duration.ofSeconds(60), VerifiedTokens.MAX_CHARS);
        tokens.verified("token-d", settings, expiringIn(0)); // within the verifier's clock skew, yet at its exp
        assertNull(tokens.get("token-d", settings));
        assertEquals(0, tokens.size());
    }

    @Test
    void aTokenIsUsedAgainOnlyForTheSettingsItPassed() {
        VerifiedTokens tokens = tokens(Duration.ofSeconds(60), VerifiedTokens.MAX_CHARS);
        tokens.verified("token-e", settings, expiringIn(3600));
        assertNull(tokens.get("token-e", new Object()), "another issuer, key or audience: verified again");
        assertNull(tokens.get("token-f", settings), "another token");
    }

    @Test
    void aZeroMaxAgeKeepsNothing() {
        VerifiedTokens tokens = tokens(Duration.ZERO, VerifiedTokens.MAX_CHARS);
        tokens.verified("token-g", settings, expiringIn(3600));
        assertNull(tokens.get("token-g", settings));
    }

    @Test
    void theKeptTokensTotalLengthIsBounded() {
        VerifiedTokens tokens = tokens(Duration.ofSeconds(60), 10_000);
        String padding = "x".repeat(990);
        for (int i = 0; i < 1_000; i++) {
            tokens.verified(padding + String.format("%010d", i), settings, expiringIn(3600));
        }
        assertTrue(tokens.size() <= 10, "1,000 tokens of 1,000 characters in 10,000: " + tokens.size() + " kept");
    }
}
