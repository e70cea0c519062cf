package io.readside.projection.management;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.vertx.http.ManagementInterface;
import io.vertx.core.http.HttpHeaders;

/**
 * The operator pages on the management interface ({@code quarkus.management.port}, beside {@code /q/health} and
 * {@code /q/metrics}), not on the public port: Quarkus serves only extension endpoints there, so they are Vert.x
 * routes rather than REST resources.
 */
@ApplicationScoped
public class ManagementRoutes {

    /** Paths on the management port; tests use them too. */
    public static final String LAG = "/lag";
    public static final String STATUS = "/status";

    @Inject
    LagReport lag;
    @Inject
    StatusPage status;
    @Inject
    ObjectMapper json; // the application's: snake_case, ISO-8601 times, as the REST answers

    void routes(@Observes ManagementInterface management) {
        management.router().get("/").handler(rc -> rc.response().setStatusCode(303)
                .putHeader(HttpHeaders.LOCATION, STATUS).end());
        management.router().get(LAG).handler(rc -> {
            try {
                rc.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json;charset=UTF-8")
                        .end(json.writeValueAsString(lag.lag()));
            } catch (JsonProcessingException e) {
                rc.fail(e);
            }
        });
        // the health checks it shows may block
        management.router().get(STATUS).blockingHandler(rc -> rc.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/html;charset=UTF-8").end(status.render()));
    }
}
