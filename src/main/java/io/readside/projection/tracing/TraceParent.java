package io.readside.projection.tracing;

import java.nio.charset.StandardCharsets;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;

/**
 * Reads a W3C {@code traceparent} header value ({@code 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>}) straight
 * from its bytes: the orders projector reads one per record, at tens of thousands of records a second, so no map,
 * getter or regular expression, and nothing allocated for a value that is not one. {@code tracestate} is not read
 * (a span link needs only the ids).
 */
public final class TraceParent {

    private static final int LENGTH = 55;

    private TraceParent() {
    }

    /** The remote span context it names; null when the value is absent or not a valid traceparent. */
    public static SpanContext parse(byte[] value) {
        if (value == null || value.length < LENGTH || value[2] != '-' || value[35] != '-' || value[52] != '-'
                || !hex(value, 0, 2) || !hex(value, 3, 32) || !hex(value, 36, 16) || !hex(value, 53, 2)) {
            return null;
        }
        boolean version0 = value[0] == '0' && value[1] == '0';
        // version 00 is exactly 55 characters; a later version may append fields after a '-'; ff is invalid
        if (version0 ? value.length != LENGTH
                : value[0] == 'f' && value[1] == 'f' || value.length > LENGTH && value[LENGTH] != '-') {
            return null;
        }
        SpanContext context = SpanContext.createFromRemoteParent(
                new String(value, 3, 32, StandardCharsets.ISO_8859_1),
                new String(value, 36, 16, StandardCharsets.ISO_8859_1),
                TraceFlags.fromByte((byte) (digit(value[53]) << 4 | digit(value[54]))), TraceState.getDefault());
        return context.isValid() ? context : null; // all-zero ids are invalid
    }

    private static boolean hex(byte[] value, int from, int length) {
        for (int i = from; i < from + length; i++) {
            if (digit(value[i]) < 0) {
                return false;
            }
        }
        return true;
    }

    /** Lower-case hex only, as the specification says. */
    private static int digit(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        return b >= 'a' && b <= 'f' ? b - 'a' + 10 : -1;
    }
}
