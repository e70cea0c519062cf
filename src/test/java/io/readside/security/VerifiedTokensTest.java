package io.readside.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.junit.jupiter.api.Test;

import io.smallrye.jwt.auth.principal.DefaultJWTCallerPrincipal;
import io.smallrye.jwt.auth.principal.JWTCallerPrincipal;

/** Pure: which verified tokens are used again, and for how long, on clocks the test moves. */
class VerifiedTokensTest {

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final AtomicLong wallSeconds = new AtomicLong(1_800_000_000L);
    private final Object settings = new Object();

    private VerifiedTokens tokens(Duration maxAge, long maxChars) {
        return new VerifiedTokens(maxAge, maxChars, nanos::get, wallSeconds::get);
    }

    /** A token in canonical compact form: base64url header, payload and a 10-byte "signature". */
    private static String token(String payload) {
        Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
        return url.encodeToString("{\"alg\":\"RS256\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + url.encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "." + url.encodeToString(new byte[10]);
    }

    private JWTCallerPrincipal principal() {
        JwtClaims claims = new JwtClaims();
        claims.setSubject("1001");
        claims.setIssuedAt(NumericDate.fromSeconds(wallSeconds.get()));
        claims.setExpirationTime(NumericDate.fromSeconds(wallSeconds.get() + 3600));
        return new DefaultJWTCallerPrincipal("t", claims);
    }

    private long inSeconds(long seconds) {
        return wallSeconds.get() + seconds;
    }

    private void later(long seconds) {
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
        wallSeconds.addAndGet(seconds);
    }

    @Test
    void aVerifiedTokenIsUsedAgainForAtMostTheMaxAge() {
        VerifiedTokens tokens = tokens(Duration.ofSeconds(60), VerifiedTokens.MAX_CHARS);
        JWTCallerPrincipal principal = principal();
        tokens.verified(token("a"), settings, principal, inSeconds(3600));
        later(59);
        assertSame(principal, tokens.get(token("a"), settings));
        later(2);
        assertNull(tokens.get(token("a"), settings), "verified 61 s ago: verified again");
    }

    @Test
    void aTokenIsNotUsedAtTheInstantItsValidityEnds() {
        VerifiedTokens tokens = tokens(Duration.ofSeconds(60), VerifiedTokens.MAX_CHARS);
        JWTCallerPrincipal principal = principal();
        tokens.verified(token("b"), settings, principal, inSeconds(10));
        later(9);
        assertSame(principal, tokens.get(token("b"), settings));
        wallSeconds.addAndGet(1); // the wall clock alone: the monotonic one keeps it a little longer
        assertNull(tokens.get(token("b"), settings), "at its exp (or age limit): verified again");
    }

    @Test
    void theKeptTimeEndsWithTheValidityOnTheMonotonicClockToo() {
        VerifiedTokens tokens = tokens(Duration.ofSeconds(60), VerifiedTokens.MAX_CHARS);
        tokens.verified(token("c"), settings, principal(), inSeconds(10));
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(11)); // a wall clock stepped back by 11 s meanwhile
        assertNull(tokens.get(token("c"), settings), "kept 10 s at most, whatever the wall clock says");
    }

    @Test
    void aTokenIsUsedAgainOnlyForTheSettingsItPassed() {
        VerifiedTokens tokens = tokens(Duration.ofSeconds(60), VerifiedTokens.MAX_CHARS);
        tokens.verified(token("d"), settings, principal(), inSeconds(3600));
        assertNull(tokens.get(token("d"), new Object()), "another issuer, key or audience: verified again");
        assertNull(tokens.get(token("e"), settings), "another token");
    }

    @Test
    void aZeroMaxAgeKeepsNothing() {
        VerifiedTokens tokens = tokens(Duration.ZERO, VerifiedTokens.MAX_CHARS);
        tokens.verified(token("f"), settings, principal(), inSeconds(3600));
        assertNull(tokens.get(token("f"), settings));
    }

    @Test
    void anotherSpellingOfTheSameSignatureIsNeverKept() {
        VerifiedTokens tokens = tokens(Duration.ofSeconds(60), VerifiedTokens.MAX_CHARS);
        String canonical = token("g");
        char last = canonical.charAt(canonical.length() - 1); // 10 bytes: the last character has 4 spare bits
        String spareBits = canonical.substring(0, canonical.length() - 1) + (char) (last + 1);
        for (String variant : new String[] { canonical + "==", canonical + "!", spareBits,
                canonical.replace('.', '~'), canonical + ".x" }) {
            assertFalse(VerifiedTokens.canonical(variant), variant);
            tokens.verified(variant, settings, principal(), inSeconds(3600));
            assertNull(tokens.get(variant, settings), variant);
        }
        assertEquals(0, tokens.size());
        assertTrue(VerifiedTokens.canonical(canonical));
    }

    @Test
    void theKeptTokensTotalLengthIsBounded() {
        VerifiedTokens tokens = tokens(Duration.ofSeconds(60), 10_000);
        String padding = "x".repeat(700);
        for (int i = 0; i < 1_000; i++) {
            tokens.verified(token(padding + i), settings, principal(), inSeconds(3600));
        }
        assertTrue(tokens.size() <= 10, "1,000 tokens of about 1,000 characters in 10,000: " + tokens.size()
                + " kept");
    }

    @Test
    void aMaxAgeOutOfBoundsStopsTheStart() {
        assertThrows(IllegalArgumentException.class, () -> new LifetimeFromNow(Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> new LifetimeFromNow(Duration.ofHours(2)));
    }
}
