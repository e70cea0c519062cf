package io.readside.security;

import jakarta.ws.rs.core.HttpHeaders;

import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import io.readside.web.Problem;

/**
 * Refused callers get a problem+json body like every other error: 401 with a {@code WWW-Authenticate: Bearer}
 * challenge (RFC 6750) for a missing or unusable token, 403 for a valid token without the role. Why a token was refused
 * is never told to the caller (smallrye-jwt logs it at DEBUG).
 */
public class SecurityProblems {

    static final String CHALLENGE = "Bearer realm=\"readside\"";

    @ServerExceptionMapper
    public RestResponse<Problem> missing(UnauthorizedException e) {
        return unauthorized(CHALLENGE, "this endpoint needs a bearer token (Authorization: Bearer <JWT>)");
    }

    @ServerExceptionMapper
    public RestResponse<Problem> refused(AuthenticationFailedException e) {
        return unauthorized(CHALLENGE + ", error=\"invalid_token\"",
                "the bearer token was refused: it is malformed, expired, issued in the future, usable for more than a"
                        + " day, not signed by the configured issuer, or not meant for this audience");
    }

    @ServerExceptionMapper
    public RestResponse<Problem> forbidden(ForbiddenException e) {
        return RestResponse.ResponseBuilder.<Problem> create(403)
                .entity(new Problem("about:blank", "Forbidden", 403, "the token does not carry the role this needs"))
                .type(Problem.MEDIA_TYPE).build();
    }

    private static RestResponse<Problem> unauthorized(String challenge, String detail) {
        return RestResponse.ResponseBuilder.<Problem> create(401)
                .entity(new Problem("about:blank", "Unauthorized", 401, detail))
                .header(HttpHeaders.WWW_AUTHENTICATE, challenge).type(Problem.MEDIA_TYPE).build();
    }
}
