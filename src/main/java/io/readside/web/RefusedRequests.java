package io.readside.web;

import io.micrometer.core.instrument.Metrics;
import io.quarkus.micrometer.runtime.binder.vertx.HttpRequestMetric;
import io.vertx.core.http.impl.HttpServerRequestInternal;
import io.vertx.ext.web.RoutingContext;

/**
 * A request Readside refuses before any route matched it (request limits, dot segments) has no route template, and
 * Quarkus' HTTP metrics would label it with its raw path: every refused path a series of its own in
 * {@code http_server_requests} (an order id, a user id, 16 KiB of padding, from anybody, without a token), and after
 * {@code quarkus.micrometer.binder.http-server.max-uri-tags} (100) such values no new endpoint is measured at all.
 * Such a request gets a template instead (Quarkus then leaves it out of {@code http_server_requests}), and is counted
 * in {@code readside_http_refused_total{status}}.
 */
final class RefusedRequests {

    static final String URI = "/refused";
    /** The request context's local that Quarkus' HTTP metrics read a request's route template from. */
    static final String TEMPLATE_KEY = "UrlPathTemplate";

    private RefusedRequests() {
    }

    static void label(RoutingContext context, int status) {
        if (context.request() instanceof HttpServerRequestInternal request
                && request.metric() instanceof HttpRequestMetric) {
            // where Quarkus REST puts a matched endpoint's template, and where the metric looks first
            request.context().putLocal(TEMPLATE_KEY, URI);
        }
        Metrics.globalRegistry.counter("readside.http.refused", "status", Integer.toString(status)).increment();
    }
}
