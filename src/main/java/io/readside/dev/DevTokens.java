package io.readside.dev;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;

import jakarta.annotation.security.PermitAll;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.openapi.annotations.Operation;

import io.quarkus.arc.properties.IfBuildProperty;
import io.readside.security.Roles;
import io.readside.web.Problem;
import io.readside.web.ProblemException;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.jwt.build.Jwt;

/**
 * {@code GET /dev/token?sub=<user id>&roles=<role,role>}: a signed token as plain text, for dev mode's curl
 * walk-through. Built only when {@code readside.dev.tokens=true} at build time (dev mode and tests); the production
 * jar has no such endpoint. Signed with the dev key pair in {@code src/dev/jwt}, which only dev mode and tests trust.
 */
@IfBuildProperty(name = "readside.dev.tokens", stringValue = "true")
@Path("/dev/token")
@PermitAll
public class DevTokens {

    static final Set<String> ROLES = Set.of(Roles.READER, Roles.ORDERS_WRITER, Roles.ADMIN);
    static final Duration LIFETIME = Duration.ofHours(12);

    @ConfigProperty(name = "mp.jwt.verify.issuer")
    String issuer;
    @ConfigProperty(name = "mp.jwt.verify.audiences")
    String audience;

    @GET
    @Produces(MediaType.TEXT_PLAIN)
    @Blocking
    @Operation(summary = "Dev mode only: a token for the given subject and roles, valid 12 hours")
    public String token(@QueryParam("sub") String sub, @QueryParam("roles") @DefaultValue("") String roles) {
        String subject = Problem.text("sub", sub, 100);
        Set<String> groups = new LinkedHashSet<>();
        for (String role : roles.split(",")) {
            if (!role.isBlank()) {
                if (!ROLES.contains(role.strip())) {
                    throw ProblemException.badRequest("roles: each must be one of " + ROLES);
                }
                groups.add(role.strip());
            }
        }
        return Jwt.issuer(issuer).audience(audience).subject(subject).groups(groups).expiresIn(LIFETIME).sign();
    }
}
