package io.readside.security;

import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.github.benmanes.caffeine.cache.Ticker;

import io.quarkus.runtime.Startup;
import io.smallrye.jwt.auth.principal.DefaultJWTCallerPrincipalFactory;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.auth.principal.JWTCallerPrincipal;
import io.smallrye.jwt.auth.principal.ParseException;

/**
 * smallrye-jwt's verification, plus a token's lifetime judged from now. {@code smallrye.jwt.time-to-live} bounds
 * {@code exp - iat} (and requires {@code iat}), which a token issued in the future passes: {@code iat} ten years
 * ahead with {@code exp = iat + 1 h} would be usable for ten years. So a token is refused when its {@code iat} is
 * later than now plus the clock skew ({@code mp.jwt.verify.clock.skew}), or when it stays usable for longer than the
 * time-to-live from now ({@code exp - now}, with the same skew). A token that passed is kept for
 * {@code readside.security.verified-tokens-max-age} ({@link VerifiedTokens}), never at or past its {@code exp} nor
 * past its age limit ({@code mp.jwt.verify.token.age}); the iat and lifetime-from-now checks only loosen as the clock
 * goes forward. Built at start, so that a max-age out of bounds stops the start instead of each request.
 */
@ApplicationScoped
@Startup
@Alternative
@Priority(1)
public class LifetimeFromNow extends DefaultJWTCallerPrincipalFactory {

    /** At most an hour: a longer one would keep a token from a key its issuer dropped for as long. */
    static final Duration MAX_MAX_AGE = Duration.ofHours(1);

    private final VerifiedTokens verifiedTokens;
    private final LongAdder verifications = new LongAdder();

    @Inject
    LifetimeFromNow(@ConfigProperty(name = "readside.security.verified-tokens-max-age") Duration maxAge) {
        if (maxAge.isNegative() || maxAge.compareTo(MAX_MAX_AGE) > 0) {
            throw new IllegalArgumentException("readside.security.verified-tokens-max-age=" + maxAge
                    + " is out of bounds: from 0s (verify every request) to " + MAX_MAX_AGE.toMinutes() + "m");
        }
        verifiedTokens = new VerifiedTokens(maxAge, VerifiedTokens.MAX_CHARS, Ticker.systemTicker(),
                () -> System.currentTimeMillis() / 1000);
    }

    @Override
    public JWTCallerPrincipal parse(String token, JWTAuthContextInfo info) throws ParseException {
        JWTCallerPrincipal kept = verifiedTokens.get(token, info);
        if (kept != null) {
            return kept;
        }
        verifications.increment();
        JWTCallerPrincipal principal;
        try {
            principal = super.parse(token, info);
        } catch (RuntimeException | StackOverflowError e) {
            // a signed token whose claims the parser cannot take ("groups": 5, arrays nested thousands deep): refused
            // as a token (401), not an internal error; the message names the kind only, never the token's text
            throw new ParseException("the token's claims could not be read (" + e.getClass().getSimpleName() + ")");
        }
        long now = System.currentTimeMillis() / 1000;
        long skew = info.getClockSkew();
        long iat = principal.getIssuedAtTime();
        if (iat > now + skew) {
            throw new ParseException("the token's iat is in the future, beyond the clock skew");
        }
        Long timeToLive = info.getMaxTimeToLiveSecs();
        if (timeToLive != null && timeToLive > 0) {
            if (principal.getExpirationTime() - now > timeToLive + skew) {
                throw new ParseException("the token stays usable for longer than " + timeToLive + " s from now");
            }
            // exp - iat <= time-to-live, with exp not yet past: so iat is at most that long ago; an iat so far back
            // that smallrye-jwt's own subtractions overflow (Long.MIN_VALUE) passes them, not this
            if (iat < now - timeToLive - skew) {
                throw new ParseException("the token was issued longer ago than " + timeToLive + " s");
            }
        }
        long validBefore = principal.getExpirationTime();
        Long tokenAge = info.getTokenAge();
        if (tokenAge != null) { // as smallrye-jwt applies it: any value, zero and negative ones too
            validBefore = Math.min(validBefore, iat + tokenAge);
        }
        verifiedTokens.verified(token, info, principal, validBefore);
        return principal;
    }

    /** Tokens verified in full (signature, claims, lifetime) since the start: not those found kept. */
    long verifications() {
        return verifications.sum();
    }
}
