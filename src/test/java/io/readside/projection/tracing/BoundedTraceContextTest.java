package io.readside.projection.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;

public class BoundedTraceContextTest {

    public static final String TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    /** 30 members, 599 characters: a valid tracestate that OpenTelemetry's own propagator keeps. */
    public static final String LONG_TRACESTATE = IntStream.range(0, 30).mapToObj(i -> "vendor%02d=%09d".formatted(i, i))
            .collect(Collectors.joining(","));

    public static final TextMapGetter<Map<String, String>> MAP = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            return carrier.get(key);
        }
    };

    @Test
    void aTracestateOverFiveHundredTwelveCharactersIsDroppedAndTheTraceparentKept() {
        assertTrue(LONG_TRACESTATE.length() > BoundedTraceContext.MAX_TRACESTATE);
        Map<String, String> headers = Map.of("traceparent", TRACEPARENT, "tracestate", LONG_TRACESTATE);
        SpanContext unbounded = Span.fromContext(W3CTraceContextPropagator.getInstance()
                .extract(Context.root(), headers, MAP)).getSpanContext();
        assertFalse(unbounded.getTraceState().isEmpty(), "OpenTelemetry's own reads it whole");

        SpanContext bounded = Span.fromContext(BoundedTraceContext.INSTANCE.extract(Context.root(), headers, MAP))
                .getSpanContext();
        assertEquals("0af7651916cd43dd8448eb211c80319c", bounded.getTraceId());
        assertTrue(bounded.getTraceState().isEmpty());
    }

    @Test
    void headersWithinTheBoundsAreReadAsTheyAre() {
        TextMapGetter<Map<String, String>> getter = BoundedTraceContext.bounded(MAP);
        String state = "a".repeat(BoundedTraceContext.MAX_TRACESTATE);
        assertEquals(state, getter.get(Map.of("tracestate", state), "tracestate"));
        assertNull(getter.get(Map.of("tracestate", state + "a"), "tracestate"));
        assertEquals(TRACEPARENT, getter.get(Map.of("traceparent", TRACEPARENT), "traceparent"));
        assertNull(getter.get(Map.of("traceparent", TRACEPARENT + "-".repeat(100)), "traceparent"));
        assertNull(getter.get(Map.of(), "traceparent"));
    }

    @Test
    void aTracestateWithRunsOfBlanksOrOverThirtyTwoMembersIsDropped() {
        TextMapGetter<Map<String, String>> getter = BoundedTraceContext.bounded(MAP);
        assertNull(getter.get(Map.of("tracestate", " ".repeat(200)), "tracestate"));
        assertNull(getter.get(Map.of("tracestate", "a=1,\t\tb=2"), "tracestate"));
        assertNull(getter.get(Map.of("tracestate", ",".repeat(32)), "tracestate"));
        assertEquals("a=1 , b=2", getter.get(Map.of("tracestate", "a=1 , b=2"), "tracestate"));
    }
}
