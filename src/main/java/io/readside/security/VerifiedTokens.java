package io.readside.security;

import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;

import io.smallrye.jwt.auth.principal.JWTCallerPrincipal;

/**
 * Bearer tokens that passed verification, so that a caller's token is not verified again on each of its requests:
 * the RS256 signature check and the token's parse were a third of the CPU of a {@code GET /orders/{id}}
 * (docs/benchmarks.md, issue 24). A token is kept (Caffeine) for at most {@code maxAge} after its verification and
 * only while it is valid: before the instant its verifier gives ({@code exp}, or sooner when a token age is set),
 * judged on the wall clock at every use too; and only for the verification settings it passed. A token that failed
 * is never kept: it is verified, and refused, each time. Only a token in its one canonical form is kept (base64url,
 * no padding, no spare bits in its signature): the decoder accepts other spellings of the same signature, which would
 * otherwise each take a place. Their total length is bounded.
 */
final class VerifiedTokens {

    /** The tokens' total length kept at most: about 4,000 tokens of a kilobyte (the principals take 2-3 times that). */
    static final long MAX_CHARS = 4L << 20;

    private final Cache<String, Verified> kept;
    private final LongSupplier epochSeconds;
    private final long maxAgeNanos;

    private record Verified(Object settings, JWTCallerPrincipal principal, long validBefore, long keptNanos) {
    }

    /** {@code maxAge} zero: nothing is kept. */
    VerifiedTokens(Duration maxAge, long maxChars, Ticker ticker, LongSupplier epochSeconds) {
        this.maxAgeNanos = maxAge.toNanos();
        this.epochSeconds = epochSeconds;
        this.kept = Caffeine.newBuilder().maximumWeight(maxChars)
                .weigher((String token, Verified verified) -> token.length())
                .expireAfter(new Expiry<String, Verified>() {
                    @Override
                    public long expireAfterCreate(String token, Verified verified, long now) {
                        return verified.keptNanos();
                    }

                    @Override
                    public long expireAfterUpdate(String token, Verified verified, long now, long current) {
                        return verified.keptNanos();
                    }

                    @Override
                    public long expireAfterRead(String token, Verified verified, long now, long current) {
                        return current;
                    }
                }).ticker(ticker).executor(Runnable::run).build();
    }

    /** The principal {@code token} was verified into under {@code settings}; null when it must be verified. */
    JWTCallerPrincipal get(String token, Object settings) {
        Verified verified = kept.getIfPresent(token);
        if (verified == null || verified.settings() != settings || epochSeconds.getAsLong() >= verified.validBefore()) {
            return null;
        }
        return verified.principal();
    }

    /**
     * Keeps a token that has just passed verification under {@code settings}, valid before {@code validBefore}
     * (epoch seconds).
     */
    void verified(String token, Object settings, JWTCallerPrincipal principal, long validBefore) {
        long now = epochSeconds.getAsLong();
        if (maxAgeNanos <= 0 || validBefore <= now || !canonical(token)) {
            return;
        }
        long left = validBefore - now;
        kept.put(token, new Verified(settings, principal, validBefore,
                Math.min(maxAgeNanos, TimeUnit.SECONDS.toNanos(left))));
    }

    /** Three base64url parts without padding, the signature exactly as it encodes again. */
    static boolean canonical(String token) {
        int first = token.indexOf('.');
        int second = token.indexOf('.', first + 1);
        if (first <= 0 || second <= first + 1 || second == token.length() - 1 || token.indexOf('.', second + 1) >= 0) {
            return false;
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c != '.' && !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
                    || c == '_')) {
                return false;
            }
        }
        String signature = token.substring(second + 1);
        try {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(Base64.getUrlDecoder().decode(signature))
                    .equals(signature);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    long size() {
        kept.cleanUp();
        return kept.estimatedSize();
    }
}
