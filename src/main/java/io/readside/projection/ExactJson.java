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
     * @throws IllegalArgumentException if {@code object} is not one JSON object
     */
    public static byte[] withMembers(byte[] object, Map<String, String> added) {
        List<long[]> kept = new ArrayList<>();
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
                    kept.add(new long[] { start, end });
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("not a JSON object", e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(object.length + 64 * added.size());
        out.write('{');
        String separator = "";
        for (long[] span : kept) {
            out.writeBytes(separator.getBytes(StandardCharsets.US_ASCII));
            out.write(object, (int) span[0], (int) (span[1] - span[0]));
            separator = ",";
        }
        for (Map.Entry<String, String> member : added.entrySet()) {
            out.writeBytes((separator + quoted(member.getKey()) + ":" + member.getValue()).getBytes(
                    StandardCharsets.UTF_8));
            separator = ",";
        }
        out.write('}');
        return out.toByteArray();
    }

    /** A member name of ours (plain ASCII letters and underscores) as a JSON string. */
    private static String quoted(String name) {
        if (!MEMBER_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("member names here are lower-case ASCII");
        }
        return "\"" + name + "\"";
    }
}
