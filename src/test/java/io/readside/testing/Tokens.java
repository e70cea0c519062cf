package io.readside.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.jose4j.lang.JoseException;

import io.readside.security.Roles;
import io.smallrye.jwt.build.Jwt;
import io.smallrye.jwt.build.JwtClaimsBuilder;
import io.smallrye.jwt.util.KeyUtils;

/**
 * Tokens the tests sign themselves, with the dev key pair ({@code src/dev/jwt}) that dev mode and the test profile
 * trust; a packaged service started by a test trusts it through {@link #trust()}.
 */
public final class Tokens {

    public static final String ISSUER = "https://readside.dev/dev-issuer";
    public static final String AUDIENCE = "readside";
    private static final Path PRIVATE_KEY = Path.of("src/dev/jwt/dev-private.pem");
    private static final Path PUBLIC_KEY = Path.of("src/dev/jwt/dev-public.pem");
    private static final PrivateKey KEY = key(PRIVATE_KEY);

    private Tokens() {
    }

    /** User {@code userId} holding {@code roles}, valid for an hour. */
    public static String user(long userId, String... roles) {
        return sign(claims(Long.toString(userId), roles), KEY);
    }

    /** A service account (a subject that is not a user id) holding {@code roles}. */
    public static String service(String subject, String... roles) {
        return sign(claims(subject, roles), KEY);
    }

    /**
     * A token whose subject and {@code upn} differ: smallrye-jwt names the principal after {@code upn} (then
     * {@code preferred_username}), the issuer tells callers apart by {@code sub}.
     */
    public static String withUpn(String subject, String upn, String... roles) {
        return sign(claims(subject, roles).upn(upn), KEY);
    }

    /** Every role: what the tests that are not about security call with; valid for six hours (a long suite). */
    public static String operator() {
        return sign(claims("readside-tests", Roles.READER, Roles.ORDERS_WRITER, Roles.ADMIN)
                .expiresAt(Instant.now().plus(Duration.ofHours(6))), KEY);
    }

    /** Expired ten minutes ago (beyond the verifier's 60 s of clock skew). */
    public static String expired(long userId, String... roles) {
        Instant now = Instant.now();
        return sign(claims(Long.toString(userId), roles).issuedAt(now.minus(Duration.ofHours(1)))
                .expiresAt(now.minus(Duration.ofMinutes(10))), KEY);
    }

    /** Valid from now for {@code lifetime}. */
    public static String validFor(Duration lifetime, long userId, String... roles) {
        Instant now = Instant.now();
        return sign(claims(Long.toString(userId), roles).issuedAt(now).expiresAt(now.plus(lifetime)), KEY);
    }

    /** Issued {@code ahead} from now (an issuer whose clock runs ahead, or a forged date), valid for an hour. */
    public static String issuedAhead(Duration ahead, long userId, String... roles) {
        Instant issued = Instant.now().plus(ahead);
        return sign(claims(Long.toString(userId), roles).issuedAt(issued).expiresAt(issued.plus(Duration.ofHours(1))),
                KEY);
    }

    /**
     * Valid for an hour, with no {@code iat} claim: signed with jose4j directly, because smallrye-jwt's builder always
     * adds one.
     */
    public static String withoutIssuedAt(long userId, String... roles) {
        JwtClaims claims = new JwtClaims();
        claims.setIssuer(ISSUER);
        claims.setAudience(AUDIENCE);
        claims.setSubject(Long.toString(userId));
        claims.setStringListClaim("groups", roles);
        claims.setExpirationTime(NumericDate.fromSeconds(Instant.now().plus(Duration.ofHours(1)).getEpochSecond()));
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setKey(KEY);
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.RSA_USING_SHA256);
        jws.setHeader("typ", "JWT");
        try {
            return jws.getCompactSerialization();
        } catch (JoseException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Well formed, but signed by a key nobody trusts. */
    public static String signedBy(PrivateKey stranger, long userId, String... roles) {
        return sign(claims(Long.toString(userId), roles), stranger);
    }

    /** Meant for another service. */
    public static String forAudience(String audience, long userId, String... roles) {
        return sign(claims(Long.toString(userId), roles).audience(audience), KEY);
    }

    /** Any claims, even ones no issuer should sign, signed with the trusted dev key. */
    public static String signed(JwtClaimsBuilder claims) {
        return sign(claims, KEY);
    }

    public static String bearer(String token) {
        return "Bearer " + token;
    }

    /** The configuration under which a service started by a test trusts these tokens. */
    public static Map<String, String> trust() {
        return Map.of("mp.jwt.verify.issuer", ISSUER,
                "mp.jwt.verify.publickey.location", "file:" + PUBLIC_KEY.toAbsolutePath());
    }

    private static JwtClaimsBuilder claims(String subject, String... roles) {
        return Jwt.issuer(ISSUER).audience(AUDIENCE).subject(subject).groups(Set.of(roles))
                .expiresAt(Instant.now().plus(Duration.ofHours(1)));
    }

    private static String sign(JwtClaimsBuilder claims, PrivateKey key) {
        return claims.jws().sign(key);
    }

    private static PrivateKey key(Path pem) {
        try {
            return KeyUtils.decodePrivateKey(Files.readString(pem));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the dev signing key " + pem + " is unreadable", e);
        }
    }
}
