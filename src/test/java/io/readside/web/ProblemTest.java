package io.readside.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;

import org.junit.jupiter.api.Test;

/** Parameter parsing as plain values: what is accepted, and what a refusal says without quoting it whole. */
class ProblemTest {

    @Test
    void wholeNumbersAreCheckedForSizeBeforeParsing() {
        assertEquals(42, Problem.positiveLong("userId", " 42 "));
        assertEquals(Long.MAX_VALUE, Problem.positiveLong("userId", "9223372036854775807"));
        assertEquals("'userId' is out of range, got '9223372036854775808'",
                refusal(() -> Problem.positiveLong("userId", "9223372036854775808")));
        assertTrue(refusal(() -> Problem.positiveLong("userId", "9".repeat(5000))).endsWith("(5000 characters)"));
        assertTrue(refusal(() -> Problem.intBetween("limit", "1e100000000", 1, 500)).startsWith(
                "'limit' must be a whole number"));
        assertTrue(refusal(() -> Problem.nonNegativeLong("after", "\u0663")).startsWith("'after' must be a whole"));
    }

    @Test
    void textMeetsTheTextRules() {
        assertEquals("o-1", Problem.text("orderId", "o-1", 200));
        assertEquals("'orderId' contains NUL (U+0000) at position 1, which cannot be stored",
                refusal(() -> Problem.text("orderId", "a\u0000b", 200)));
        assertTrue(refusal(() -> Problem.text("category", "\ud800", 100)).contains("unpaired UTF-16 surrogate"));
        assertTrue(refusal(() -> Problem.text("category", "b\ufffdoks", 100)).contains("not UTF-8"),
                "%FF decoded by the server as U+FFFD");
        assertEquals("'orderId' is 5000 characters long; at most 200 are allowed",
                refusal(() -> Problem.text("orderId", "x".repeat(5000), 200)));
        assertEquals("", Problem.optionalText("after", "", 200));
        assertTrue(refusal(() -> Problem.optionalText("after", "\u0000", 200)).startsWith("'after' contains NUL"));
    }

    @Test
    void timesAreFourDigitYearsFromTheEpoch() {
        assertEquals(Instant.parse("9999-12-31T23:59:59Z"), Problem.instant("to", "9999-12-31T23:59:59Z"));
        assertEquals("'from' must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z, got "
                + "'+294276-12-31T00:00:00Z'", refusal(() -> Problem.instant("from", "+294276-12-31T00:00:00Z")));
        assertTrue(refusal(() -> Problem.instant("to", "-999999999-01-01T00:00:00Z"))
                .startsWith("'to' must be between"));
        assertTrue(refusal(() -> Problem.instant("to", "1".repeat(5000))).endsWith("(5000 characters)"));
    }

    @Test
    void dotSegmentsAreFoundOnTheRawPathAlsoPercentEncoded() {
        for (String path : new String[] {"/orders/..", "/orders/.", "/orders/%2E%2E", "/orders/%2e", "/orders/.%2E/x",
                "/orders/../cancel"}) {
            assertTrue(DotSegments.hasDotSegment(path), path);
        }
        for (String path : new String[] {"/", "/orders", "/orders/...", "/orders/a.b", "/orders/..%2F..", "/orders/"}) {
            assertFalse(DotSegments.hasDotSegment(path), path);
        }
    }

    private static String refusal(Runnable parse) {
        ProblemException refused = assertThrows(ProblemException.class, parse::run);
        assertEquals(400, refused.problem().status());
        return refused.getMessage();
    }
}
