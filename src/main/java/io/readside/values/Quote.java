package io.readside.values;

/**
 * Bounded quoting of outside input in messages, logs and headers: no message quotes more than {@link #MAX_CHARS}
 * characters of what it was given, and says how long the whole was.
 */
public final class Quote {

    /** The most characters of an input a message shows. */
    public static final int MAX_CHARS = 40;

    private Quote() {
    }

    /**
     * {@code 'abc'} for a short text; {@code 'abcdef…' (5000 characters)} for a long one. Control and format
     * characters, line separators and unpaired surrogates are shown as {@code \\uXXXX}, so the quote itself is
     * always printable, valid UTF-16, one line.
     */
    public static String of(CharSequence text) {
        if (text == null) {
            return "null";
        }
        int length = text.length();
        StringBuilder quoted = new StringBuilder(MAX_CHARS + 32).append('\'');
        int shown = Math.min(length, MAX_CHARS);
        for (int i = 0; i < shown; i++) {
            char c = text.charAt(i);
            boolean pairedHigh = Character.isHighSurrogate(c) && i + 1 < shown
                    && Character.isLowSurrogate(text.charAt(i + 1));
            if (pairedHigh) {
                quoted.append(c).append(text.charAt(++i));
            } else if (invisible(c)) {
                quoted.append(String.format("\\u%04x", (int) c));
            } else {
                quoted.append(c);
            }
        }
        quoted.append(shown < length ? "…'" : "'");
        if (shown < length) {
            quoted.append(" (").append(length).append(" characters)");
        }
        return quoted.toString();
    }

    /** Controls (C0, C1), unpaired surrogates, format characters (bidi overrides) and line separators. */
    private static boolean invisible(char c) {
        int type = Character.getType(c);
        return Character.isISOControl(c) || Character.isSurrogate(c) || type == Character.FORMAT
                || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
    }

    /** As {@link #of(CharSequence)} for a value of any kind (a number's text, a JSON node). */
    public static String of(Object value) {
        return of(value == null ? null : value.toString());
    }
}
