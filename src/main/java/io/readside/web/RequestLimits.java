package io.readside.web;

import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Readside's own limits on a request's size, checked before any route reads it, answered with a problem body: a
 * request line over {@code readside.http.max-request-line-length} is a 414, headers over
 * {@code readside.http.max-header-size} a 431, a declared body ({@code Content-Length}) over
 * {@code quarkus.http.limits.max-body-size} a 413 before a byte of it is read. A chunked body is counted by Quarkus
 * as it arrives; its 413 is rendered as a problem by {@link #tooLargeAsAProblem}. Vert.x's own limits
 * ({@code quarkus.http.limits.max-initial-line-length}, {@code max-header-size}) are set above these: beyond them
 * Vert.x answers before any route, with an empty body.
 */
@ApplicationScoped
public class RequestLimits {

    private static final Logger LOG = Logger.getLogger(RequestLimits.class);
    /** Before every other route of the application router (the access log and Quarkus' own limits included). */
    static final int ORDER = Integer.MIN_VALUE + 1;
    /** A refused body is read and dropped up to this much, so the client sees the answer; beyond it, closed. */
    static final long DRAIN_AT_MOST = 1024 * 1024;

    @ConfigProperty(name = "readside.http.max-request-line-length")
    int maxRequestLine;
    @ConfigProperty(name = "readside.http.max-header-size")
    MemorySize maxHeaderSize;
    @ConfigProperty(name = "quarkus.http.limits.max-body-size")
    MemorySize maxBodySize;

    @Inject
    ObjectMapper json;

    void install(@Observes Router router) {
        router.route().order(ORDER).handler(this::check);
        router.route().order(ORDER).failureHandler(this::tooLargeAsAProblem);
    }

    void check(RoutingContext context) {
        HttpServerRequest request = context.request();
        // as Vert.x counts it: METHOD SP request-target SP HTTP/1.1
        long line = request.method().name().length() + 1 + request.uri().length() + 1 + "HTTP/1.1".length();
        if (line > maxRequestLine) {
            refuse(context, 414, "URI too long", "the request line is " + line + " characters long; at most "
                    + maxRequestLine + " are allowed (readside.http.max-request-line-length)", 0);
            return;
        }
        long headers = 0;
        for (Map.Entry<String, String> header : request.headers()) {
            headers += header.getKey().length() + 2 + header.getValue().length() + 2; // name: value CRLF
        }
        if (headers > maxHeaderSize.asLongValue()) {
            refuse(context, 431, "Request header fields too large", "the headers are " + headers + " bytes; at most "
                    + maxHeaderSize.asLongValue() + " are allowed (readside.http.max-header-size)", 0);
            return;
        }
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null) {
            long declared = declaredLength(length);
            if (declared > maxBodySize.asLongValue()) {
                refuse(context, 413, "Content too large", "the body is " + (declared == Long.MAX_VALUE
                        ? "larger than a long" : declared + " bytes") + "; at most " + maxBodySize.asLongValue()
                        + " are allowed (quarkus.http.limits.max-body-size)", declared);
                return;
            }
        }
        context.next();
    }

    /** A body over Quarkus' limit while it streams in (no Content-Length) ends here with status 413. */
    void tooLargeAsAProblem(RoutingContext context) {
        if (context.statusCode() == 413 && !context.response().headWritten()) {
            refuse(context, 413, "Content too large", "the body is larger than " + maxBodySize.asLongValue()
                    + " bytes, the most allowed (quarkus.http.limits.max-body-size)", Long.MAX_VALUE);
            return;
        }
        context.next();
    }

    /** The declared length; Long.MAX_VALUE when too long for a long, -1 when not a number (Vert.x judges that). */
    private static long declaredLength(String header) {
        String digits = header.strip();
        if (digits.isEmpty() || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        return digits.length() > 18 ? Long.MAX_VALUE : Long.parseLong(digits);
    }

    /**
     * Answers with a problem body. A body that was declared and refused is drained (read and dropped) up to
     * {@link #DRAIN_AT_MOST}, so that a client still sending it reads the answer instead of a reset; a larger one
     * closes the connection after the answer.
     */
    private void refuse(RoutingContext context, int status, String title, String detail, long bodyBytes) {
        byte[] body;
        try {
            body = json.writeValueAsBytes(new Problem("about:blank", title, status, detail));
        } catch (JsonProcessingException e) {
            LOG.error("could not write a problem body", e);
            body = new byte[0];
        }
        RefusedRequests.label(context, status);
        HttpServerRequest request = context.request();
        if (bodyBytes > DRAIN_AT_MOST) {
            context.response().putHeader(HttpHeaders.CONNECTION, "close");
            context.response().endHandler(v -> request.connection().close());
        } else if (!request.isEnded()) {
            long[] drained = {0};
            request.handler(chunk -> {
                drained[0] += chunk.length();
                if (drained[0] > DRAIN_AT_MOST) {
                    request.connection().close();
                }
            });
            request.resume();
        }
        context.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE)
                .end(Buffer.buffer(body));
    }
}
