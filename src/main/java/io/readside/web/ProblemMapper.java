package io.readside.web;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every error leaves as {@code application/problem+json}; a stack trace never reaches the caller. */
public class ProblemMapper {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);

    @ServerExceptionMapper
    public RestResponse<Problem> problem(ProblemException e) {
        return response(e);
    }

    /** The answer for a problem, also for a request filter that ends a request itself. */
    public static RestResponse<Problem> response(ProblemException e) {
        RestResponse.ResponseBuilder<Problem> response = RestResponse.ResponseBuilder
                .<Problem> create(e.problem().status()).entity(e.problem()).type(Problem.MEDIA_TYPE);
        if (e.retryAfterSeconds() > 0) {
            response.header("Retry-After", Integer.toString(e.retryAfterSeconds()));
        }
        return response.build();
    }

    @ServerExceptionMapper
    public RestResponse<Problem> webApplication(WebApplicationException e) {
        Response.StatusType status = e.getResponse().getStatusInfo();
        return respond(new Problem("about:blank", status.getReasonPhrase(), status.getStatusCode(), e.getMessage()));
    }

    @ServerExceptionMapper
    public RestResponse<Problem> unexpected(Exception e) {
        LOG.error("request failed", e);
        return respond(new Problem("about:blank", "Internal error", 500,
                "The request could not be served; the service log has the details"));
    }

    private static RestResponse<Problem> respond(Problem problem) {
        return RestResponse.ResponseBuilder.<Problem> create(problem.status()).entity(problem).type(Problem.MEDIA_TYPE)
                .build();
    }
}
