package io.readside.projection.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import io.opentelemetry.api.trace.SpanContext;

/** The traceparent reader of the projector's hot path, against the W3C format's edge cases. */
class TraceParentTest {

    private static SpanContext parse(String value) {
        return TraceParent.parse(value.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void readsTraceIdSpanIdAndSampledFlagOfVersion00() {
        SpanContext context = parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", context.getTraceId());
        assertEquals("00f067aa0ba902b7", context.getSpanId());
        assertTrue(context.isSampled());
        assertTrue(context.isRemote());
        assertFalse(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").isSampled());
    }

    @Test
    void laterVersionsMayAppendFieldsButVersion00MayNot() {
        assertEquals("00f067aa0ba902b7",
                parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra").getSpanId());
        assertNull(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
        assertNull(parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
        assertNull(parse("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    }

    @Test
    void refusesWhatIsNotATraceparent() {
        assertNull(TraceParent.parse(null));
        assertNull(parse(""));
        assertNull(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"));            // no flags
        assertNull(parse("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"));         // upper case
        assertNull(parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));         // zero trace id
        assertNull(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));         // zero span id
        assertNull(parse("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));         // separator
        assertNull(parse("00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"));         // not hex
        assertNull(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z"));
    }
}
