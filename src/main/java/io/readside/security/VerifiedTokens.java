package io.readside.security;

import java.time.Duration;
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
 * (docs/benchmarks.md). A token is kept (Caffeine) for at most {@code maxAge} after its verification and never past
 * its {@code exp} (checked against the wall clock on every use too), and only for the verification settings it
 * passed. A token that failed is never kept: it is verified, and refused, each time. Only tokens the issuer signed get
 * in, and their total length is bounded, so made-up tokens cannot fill it.
 */
final class VerifiedTokens {

    /** The tokens' total length kept at most: about 4,000 tokens of a kilobyte. */
    static final long MAX_CHARS = 4L << 20;

    private final Cache<String, Verified> kept;
    private final LongSupplier epochSeconds;
    private final long maxAgeNanos;

    private record Verified(Object settings, JWTCallerPrincipal principal, long keptNanos) {
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
        if (verified == null || verified.settings() != settings
                || verified.principal().getExpirationTime() < epochSeconds.getAsLong()) {
            return null;
        }
        return verified.principal();
    }

    /** Keeps a token that has just passed verification under {@code settings}. */
    void verified(String token, Object settings, JWTCallerPrincipal principal) {
        long left = principal.getExpirationTime() - epochSeconds.getAsLong();
        if (maxAgeNanos <= 0 || left <= 0) {
            return;
        }
        kept.put(token, new Verified(settings, principal, Math.min(maxAgeNanos, TimeUnit.SECONDS.toNanos(left))));
    }

    long size() {
        kept.cleanUp();
        return kept.estimatedSize();
    }
}
