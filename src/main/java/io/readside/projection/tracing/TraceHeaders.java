package io.readside.projection.tracing;

import java.util.HashMap;
import java.util.Map;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;

/**
 * The W3C trace context of a span as its two headers: what an outbox row keeps of the command that wrote it, and
 * what the relay sends with the row's record. {@code tracestate} is null when the context has none.
 */
public record TraceHeaders(String traceparent, String tracestate) {

    public static final String TRACEPARENT = "traceparent";
    public static final String TRACESTATE = "tracestate";

    /** The current span's; null when there is none (tracing is off, or nothing is being traced). */
    public static TraceHeaders current() {
        return of(Context.current());
    }

    /** {@code span}'s; null when it is not a real span (tracing is off). */
    public static TraceHeaders of(Span span) {
        return of(Context.root().with(span));
    }

    private static TraceHeaders of(Context context) {
        if (!Span.fromContext(context).getSpanContext().isValid()) {
            return null;
        }
        Map<String, String> headers = new HashMap<>(4);
        W3CTraceContextPropagator.getInstance().inject(context, headers, Map::put);
        String traceparent = headers.get(TRACEPARENT);
        return traceparent == null ? null : new TraceHeaders(traceparent, headers.get(TRACESTATE));
    }
}
