package io.readside.values;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The rules every text from outside (a topic's field or key, an HTTP parameter or body field) must meet before it is
 * stored or compared: PostgreSQL cannot hold NUL in text, and an unpaired UTF-16 surrogate has no UTF-8 form (it
 * would be stored as '?'), so both are refused, never rewritten.
 */
public final class Text {

    private Text() {
    }

    /**
     * What is wrong with {@code text}, or null when it may be stored as it is: not blank, at most {@code maxLength}
     * UTF-16 characters, no NUL, no unpaired surrogate. The answer never quotes the text.
     */
    public static String problem(String text, int maxLength) {
        if (text == null || text.isBlank()) {
            return "is blank";
        }
        if (text.length() > maxLength) {
            return "is " + text.length() + " characters long; at most " + maxLength + " are allowed";
        }
        return unstorable(text);
    }

    /** NUL or an unpaired surrogate, said with its position; null when there is none. */
    public static String unstorable(CharSequence text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\u0000') {
                return "contains NUL (U+0000) at position " + i + ", which cannot be stored";
            }
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return "contains an unpaired UTF-16 surrogate (\\u" + String.format("%04x", (int) c)
                        + ") at position " + i + ", which is not Unicode text";
            }
        }
        return null;
    }

    /** A decoder's output, reused per thread: {@link #isUtf8} checks without keeping the text. */
    private static final ThreadLocal<java.nio.CharBuffer> SCRATCH = ThreadLocal
            .withInitial(() -> java.nio.CharBuffer.allocate(4096));

    /** Whether the bytes are UTF-8 (the JDK's decoder, reporting malformed input), without making a String of them. */
    public static boolean isUtf8(byte[] bytes) {
        java.nio.charset.CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        java.nio.CharBuffer out = SCRATCH.get();
        while (true) {
            out.clear();
            java.nio.charset.CoderResult result = decoder.decode(in, out, true);
            if (result.isError()) {
                return false;
            }
            if (result.isUnderflow()) {
                out.clear();
                return !decoder.flush(out).isError();
            }
        }
    }

    /** The bytes as UTF-8 text, or null when they are not UTF-8 (nothing is replaced). */
    public static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
