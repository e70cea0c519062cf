package io.readside.projection;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

/**
 * Copies of a JSON object that keep the bytes of what they copy: numbers as written ({@code 100.00} stays
 * {@code 100.00}, not {@code 1E+2}), strings with their escapes, unknown members untouched. A tree (Jackson's
 * {@code JsonNode}) would re-encode all of them.
 */
public final class ExactJson {

    private static final JsonFactory FACTORY = new JsonFactory();
    private static final java.util.regex.Pattern MEMBER_NAME = java.util.regex.Pattern.compile("[a-z_]+");

    private ExactJson() {
    }

    /**
     * {@code object} with {@code added} as its last members: each top-level member of {@code object} is copied
     * byte for byte unless {@code added} replaces it; the whitespace between members is not kept.
     *
     * @param object a JSON object in UTF-8, already validated (e.g. by {@link EventJson#object})
     * @param added member name to the member's value as JSON text (e.g. {@code "\"processed\""})
     * @throws IllegalArgumentException if {@code object} is not one JSON object, as far as the copy can tell: input
     *             that was not validated may also be copied as it is
     */
    public static byte[] withMembers(byte[] object, Map<String, String> added) {
        List<int[]> kept = scannedMembers(object, added);
        if (kept == null) {
            kept = parsedMembers(object, added);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(object.length + 64 * added.size());
        out.write('{');
        boolean first = true;
        for (int[] span : kept) {
            if (!first) {
                out.write(',');
            }
            out.write(object, span[0], span[1] - span[0]);
            first = false;
        }
        for (Map.Entry<String, String> member : added.entrySet()) {
            if (!first) {
                out.write(',');
            }
            out.writeBytes((quoted(member.getKey()) + ":" + member.getValue()).getBytes(StandardCharsets.UTF_8));
            first = false;
        }
        out.write('}');
        return out.toByteArray();
    }

    /**
     * The spans (start, end) of the top-level members {@code added} does not name, by Jackson's parser: for any
     * object, and the reference for {@link #scannedMembers}.
     */
    static List<int[]> parsedMembers(byte[] object, Map<String, String> added) {
        List<int[]> kept = new ArrayList<>();
        try (JsonParser parser = FACTORY.createParser(object)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("not a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                long start = parser.currentTokenLocation().getByteOffset();
                String name = parser.currentName();
                parser.nextToken();
                parser.skipChildren();
                parser.finishToken(); // a string is read lazily: the location is after its closing quote only now
                long end = parser.currentLocation().getByteOffset();
                if (start < 0 || end < start || end > object.length) {
                    throw new IllegalArgumentException("not a UTF-8 JSON object"); // a char-based parser: no offsets
                }
                if (!added.containsKey(name)) {
                    kept.add(new int[] { (int) start, (int) end });
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("not a JSON object", e);
        }
        return kept;
    }

    /**
     * The same as {@link #parsedMembers} by one pass over the bytes, for an object already validated (a record's value
     * is, before anything is copied from it): strings are skipped by their quotes and escapes, nested values by their
     * brackets, and UTF-8's multi-byte sequences hold no ASCII byte. Null when it cannot say: not an object that ends
     * where it should, or a member name with an escape (its name is then Jackson's to decode).
     */
    static List<int[]> scannedMembers(byte[] object, Map<String, String> added) {
        try {
            List<int[]> kept = new ArrayList<>();
            int i = space(object, 0);
            if (object[i] != '{') {
                return null;
            }
            i = space(object, i + 1);
            if (object[i] == '}') {
                return kept;
            }
            while (true) {
                if (object[i] != '"') {
                    return null;
                }
                int start = i;
                int nameEnd = stringEnd(object, i);
                for (int k = start + 1; k < nameEnd - 1; k++) {
                    if (object[k] == '\\') {
                        return null;
                    }
                }
                i = space(object, nameEnd);
                if (object[i] != ':') {
                    return null;
                }
                i = valueEnd(object, space(object, i + 1));
                if (!named(object, start + 1, nameEnd - 1, added)) {
                    kept.add(new int[] { start, i });
                }
                i = space(object, i);
                if (object[i] == '}') {
                    return kept;
                }
                if (object[i] != ',') {
                    return null;
                }
                i = space(object, i + 1);
            }
        } catch (IndexOutOfBoundsException e) { // ran off the end: not a whole object
            return null;
        }
    }

    private static int space(byte[] json, int i) {
        while (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r') {
            i++;
        }
        return i;
    }

    /** {@code i} at a string's opening quote: the index after its closing quote. */
    private static int stringEnd(byte[] json, int i) {
        int k = i + 1;
        while (json[k] != '"') {
            k += json[k] == '\\' ? 2 : 1;
        }
        return k + 1;
    }

    /** {@code i} at a value's first byte: the index after its last. */
    private static int valueEnd(byte[] json, int i) {
        byte first = json[i];
        if (first == '"') {
            return stringEnd(json, i);
        }
        if (first == '{' || first == '[') {
            int depth = 0;
            int k = i;
            while (true) {
                byte b = json[k];
                if (b == '"') {
                    k = stringEnd(json, k);
                    continue;
                }
                if (b == '{' || b == '[') {
                    depth++;
                } else if ((b == '}' || b == ']') && --depth == 0) {
                    return k + 1;
                }
                k++;
            }
        }
        int k = i; // a number, true, false or null
        while (k < json.length && json[k] != ',' && json[k] != '}' && json[k] != ']' && json[k] != ' '
                && json[k] != '\t' && json[k] != '\n' && json[k] != '\r') {
            k++;
        }
        return k;
    }

    /** Whether the name between {@code from} and {@code to} (raw, without escapes) is one {@code added} names. */
    private static boolean named(byte[] json, int from, int to, Map<String, String> added) {
        for (String name : added.keySet()) {
            if (name.length() == to - from) {
                boolean same = true;
                for (int k = 0; k < name.length() && same; k++) {
                    same = json[from + k] == name.charAt(k);
                }
                if (same) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A member name of ours (plain ASCII letters and underscores) as a JSON string. */
    private static String quoted(String name) {
        if (!MEMBER_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("member names here are lower-case ASCII");
        }
        return "\"" + name + "\"";
    }
}
