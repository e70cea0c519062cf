package io.readside.values;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;

import org.junit.jupiter.api.Test;

/** Pure logic: the rules every text and amount from outside meets, and how a message quotes input. */
class ValuesTest {

    @Test
    void quotesAtMostFortyCharactersAndSaysHowLongTheWholeWas() {
        assertEquals("'abc'", Quote.of("abc"));
        String quoted = Quote.of("k".repeat(600_000));
        assertTrue(quoted.startsWith("'" + "k".repeat(Quote.MAX_CHARS) + "…'"), quoted);
        assertTrue(quoted.endsWith("(600000 characters)"), quoted);
        assertEquals("'a\\u0000b\\ud800'", Quote.of("a\u0000b\ud800"));
        assertEquals("'\ud83d\udcda'", Quote.of("\ud83d\udcda"), "a surrogate pair is shown as the character");
        assertEquals("'a\\u2028b\\u202ec\\u0085'", Quote.of("a\u2028b\u202ec\u0085"),
                "line separators, bidi overrides and C1 controls cannot forge a log line");
    }

    @Test
    void refusesNulAndUnpairedSurrogatesButNotPairs() {
        assertNull(Text.problem("b\u00fccher \ud83d\udcda", 100));
        assertNotNull(Text.problem("bo\u0000oks", 100));
        assertNotNull(Text.problem("x\ud800y", 100));
        assertNotNull(Text.problem("\udc00", 100));
        assertNotNull(Text.problem("x\ud83d", 100), "a high surrogate at the end has no pair");
        assertNotNull(Text.problem(" ", 100));
        assertNotNull(Text.problem("abc", 2));
        assertNull(Text.utf8(new byte[] { (byte) 0xc0, (byte) 0xaf }), "an overlong encoding is not UTF-8");
        assertNull(Text.utf8(new byte[] { (byte) 0xed, (byte) 0xa0, (byte) 0x80 }), "an encoded surrogate is not UTF-8");
        assertEquals("\u00e9", Text.utf8(new byte[] { (byte) 0xc3, (byte) 0xa9 }));
    }

    @Test
    void checksUtf8WithoutTheTextAsTheDecoderDoesAtAnyLength() {
        byte[] longText = "\u00e9\ud83d\udcda".repeat(5000).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(Text.isUtf8(longText), "longer than the scratch buffer, a 4-byte character across its edge");
        byte[] brokenAtTheEnd = java.util.Arrays.copyOf(longText, longText.length - 1);
        assertFalse(Text.isUtf8(brokenAtTheEnd), "a character cut at the end");
        assertFalse(Text.isUtf8(new byte[] { (byte) 0xc0, (byte) 0xaf }), "an overlong encoding");
        assertFalse(Text.isUtf8(new byte[] { (byte) 0xed, (byte) 0xa0, (byte) 0x80 }), "an encoded surrogate");
        assertTrue(Text.isUtf8(new byte[0]));
    }

    @Test
    void takesMoneyExactlyAndRefusesItBySizeBeforeArithmetic() {
        assertEquals(new BigDecimal("12.50"), Money.exact(new BigDecimal("12.500000")));
        assertEquals(new BigDecimal("100.00"), Money.exact(new BigDecimal("1e2")));
        assertEquals(new BigDecimal("999999999999.99"), Money.exact("999999999999.99"));
        for (String amount : new String[] { "1e100000000", "-1e2000000", "1e-100000000", "12.500000000000000001",
                "1000000000000", "-0.01", "12.505" }) {
            assertThrows(Money.InvalidAmountException.class, () -> Money.exact(new BigDecimal(amount)), amount);
        }
        assertThrows(Money.InvalidAmountException.class, () -> Money.exact("1".repeat(Money.MAX_TEXT_LENGTH + 1)));
        assertThrows(Money.InvalidAmountException.class, () -> Money.exact("ten"));
    }
}
