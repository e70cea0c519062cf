package io.readside.web;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

/**
 * Refuses a path with a {@code .} or {@code ..} segment, also percent-encoded ({@code %2E%2E}). Vert.x resolves
 * them before routing ({@code /orders/%2E%2E} would be {@code /}, {@code /orders/.} the order list), so an id of
 * that name would silently read something else; no order, user, read model or topic is named so.
 */
@ApplicationScoped
public class DotSegments {

    /** Before the routes and before authentication: the path is refused whoever asks. */
    static final int PRIORITY = 1_000;

    void register(@Observes Filters filters, ObjectMapper mapper) throws JsonProcessingException {
        String body = mapper.writeValueAsString(ProblemException.badRequest("the path has a '.' or '..' segment "
                + "(perhaps percent-encoded, %2E): no resource is named so, and Readside does not resolve them")
                .problem());
        filters.register(context -> refuse(context, body), PRIORITY);
    }

    private static void refuse(RoutingContext context, String body) {
        if (hasDotSegment(context.request().path())) {
            RefusedRequests.label(context, 400);
            context.response().setStatusCode(400).putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE).end(body);
        } else {
            context.next();
        }
    }

    /** On the raw path, as received: {@code .}, {@code ..}, {@code %2E}, {@code .%2e}, ... between slashes. */
    static boolean hasDotSegment(String rawPath) {
        if (rawPath == null) {
            return false;
        }
        int start = 0;
        while (start <= rawPath.length()) {
            int end = rawPath.indexOf('/', start);
            if (end < 0) {
                end = rawPath.length();
            }
            if (end - start <= "%2E%2E".length()) {
                String segment = rawPath.substring(start, end).replace("%2E", ".").replace("%2e", ".");
                if (segment.equals(".") || segment.equals("..")) {
                    return true;
                }
            }
            start = end + 1;
        }
        return false;
    }
}
