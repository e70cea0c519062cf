package io.readside.projection.tracing;

import java.util.Collection;

import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;

/**
 * W3C Trace Context with bounded input: a {@code traceparent} longer than {@value #MAX_TRACEPARENT} characters or a
 * {@code tracestate} longer than {@value #MAX_TRACESTATE} is ignored (W3C lets a receiver drop a tracestate over 512).
 * OpenTelemetry's own propagator splits {@code tracestate} with a regular expression whose cost grows with the square
 * of its length (64 KiB of spaces: 4 s of CPU), and reads it from any HTTP request and any record: that would let one
 * anonymous request hold an event loop, or one record stop a channel. Used for HTTP (named
 * {@value BoundedTraceContextProvider#NAME} in {@code quarkus.otel.propagators}) and for Kafka records
 * ({@link BatchSpans}).
 */
public final class BoundedTraceContext implements TextMapPropagator {

    public static final BoundedTraceContext INSTANCE = new BoundedTraceContext();
    /** Version 00 is 55 characters; room for a later version's extra fields. */
    static final int MAX_TRACEPARENT = 128;
    static final int MAX_TRACESTATE = 512;

    private static final TextMapPropagator W3C = W3CTraceContextPropagator.getInstance();

    private BoundedTraceContext() {
    }

    @Override
    public Collection<String> fields() {
        return W3C.fields();
    }

    @Override
    public <C> void inject(Context context, C carrier, TextMapSetter<C> setter) {
        W3C.inject(context, carrier, setter);
    }

    @Override
    public <C> Context extract(Context context, C carrier, TextMapGetter<C> getter) {
        return W3C.extract(context, carrier, bounded(getter));
    }

    /** {@code getter}, answering null for a trace header over its bound. */
    static <C> TextMapGetter<C> bounded(TextMapGetter<C> getter) {
        return new TextMapGetter<>() {
            @Override
            public Iterable<String> keys(C carrier) {
                return getter.keys(carrier);
            }

            @Override
            public String get(C carrier, String key) {
                String value = getter.get(carrier, key);
                if (value == null) {
                    return null;
                }
                if (TraceHeaders.TRACESTATE.equals(key)) {
                    return value.length() > MAX_TRACESTATE || !plainList(value) ? null : value;
                }
                return value.length() > MAX_TRACEPARENT ? null : value;
            }
        };
    }

    /**
     * At most 32 members and no run of blanks: what the splitting regex costs most on (512 spaces: ~0.4 ms); W3C
     * allows 32 members and one optional blank around each comma.
     */
    static boolean plainList(String tracestate) {
        int commas = 0;
        for (int i = 0; i < tracestate.length(); i++) {
            char c = tracestate.charAt(i);
            if (c == ',' && ++commas > 31) {
                return false;
            }
            boolean blank = c == ' ' || c == '\t';
            if (blank && i + 1 < tracestate.length() && (tracestate.charAt(i + 1) == ' '
                    || tracestate.charAt(i + 1) == '\t')) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "BoundedTraceContext";
    }
}
