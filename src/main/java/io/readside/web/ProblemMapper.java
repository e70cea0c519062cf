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
        return respond(e.problem());
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
