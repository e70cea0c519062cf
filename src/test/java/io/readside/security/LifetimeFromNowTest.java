package io.readside.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.junit.jupiter.api.Test;

import io.readside.testing.Tokens;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.auth.principal.ParseException;
import io.smallrye.jwt.build.Jwt;
import io.smallrye.jwt.build.JwtClaimsBuilder;
import io.smallrye.jwt.util.KeyUtils;

/**
 * Pure: the verifier Quarkus calls, with the dev key and the settings of application.properties, against tokens the
 * trusted issuer signed but that must still be refused, or not kept.
 */
class LifetimeFromNowTest {

    private final LifetimeFromNow verifier = new LifetimeFromNow(Duration.ofSeconds(60));

    private static JWTAuthContextInfo settings() throws Exception {
        JWTAuthContextInfo info = new JWTAuthContextInfo(
                KeyUtils.decodePublicKey(Files.readString(Path.of("src/dev/jwt/dev-public.pem"))), Tokens.ISSUER);
        info.setExpectedAudience(Set.of(Tokens.AUDIENCE));
        info.setMaxTimeToLiveSecs(86_400L);
        info.setClockSkew(60);
        return info;
    }

    private static JwtClaimsBuilder claims() {
        Instant now = Instant.now();
        return Jwt.issuer(Tokens.ISSUER).audience(Tokens.AUDIENCE).subject("1001").groups(Set.of(Roles.READER))
                .issuedAt(now).expiresAt(now.plus(Duration.ofHours(1)));
    }

    @Test
    void aTokenAgeOfZeroOrLessKeepsNoTokenSinceEachIsAsOldAsItsAgeLimitAtOnce() throws Exception {
        for (long age : new long[] { 0, -30 }) {
            JWTAuthContextInfo info = settings();
            info.setTokenAge(age);
            String token = Tokens.signed(claims().issuedAt(Instant.now().minusSeconds(Math.max(0, -age))));
            long before = verifier.verifications();
            for (int i = 0; i < 2; i++) {
                try {
                    verifier.parse(token, info);
                } catch (ParseException refused) {
                    // past its age limit by now: refused, which is right too; what matters is that it was asked
                }
            }
            assertEquals(before + 2, verifier.verifications(), "token age " + age + ": verified each time");
        }
    }

    @Test
    void anIssuerSignedTokenWithAMalformedClaimIsRefusedAsATokenNotAnInternalError() throws Exception {
        for (String claim : List.of("\"groups\":5",
                "\"deep\":" + "[".repeat(5_000) + "1" + "]".repeat(5_000))) {
            String token = signedPayload(claim);
            assertThrows(ParseException.class, () -> verifier.parse(token, settings()),
                    claim.substring(0, Math.min(12, claim.length())));
        }
    }

    /** The claims of {@link #claims()} and one more, as raw JSON: what no builder would write, signed all the same. */
    private static String signedPayload(String extraMember) throws Exception {
        long now = Instant.now().getEpochSecond();
        String payload = "{\"iss\":\"" + Tokens.ISSUER + "\",\"aud\":\"" + Tokens.AUDIENCE + "\",\"sub\":\"1001\","
                + "\"iat\":" + now + ",\"exp\":" + (now + 3600) + "," + extraMember + "}";
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(payload);
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.RSA_USING_SHA256);
        jws.setKey(KeyUtils.decodePrivateKey(Files.readString(Path.of("src/dev/jwt/dev-private.pem"))));
        return jws.getCompactSerialization();
    }

    @Test
    void aTokenIssuedBeforeItsTimeToLiveCouldHaveLastedIsRefusedWhateverItsIatOverflows() {
        Instant exp = Instant.now().plus(Duration.ofHours(1));
        for (long iat : new long[] { Long.MIN_VALUE, Long.MIN_VALUE / 2, -1, 0,
                Instant.now().getEpochSecond() - 90_000 }) {
            String token = Tokens.signed(claims().issuedAt(iat).expiresAt(exp));
            assertThrows(ParseException.class, () -> verifier.parse(token, settings()), "iat " + iat);
        }
    }

}
