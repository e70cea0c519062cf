package io.readside.projection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Pure logic: the enriched copy of a record keeps the bytes of every member it copies, and the one-pass scan of the
 * members finds what Jackson's parser finds.
 */
class ExactJsonTest {

    private static final Map<String, String> ADDED = new LinkedHashMap<>();
    static {
        ADDED.put("processed_at", "1764230000.000001");
        ADDED.put("status", "\"processed\"");
    }

    @Test
    void keepsNumbersAsWrittenAndStringsWithTheirEscapes() {
        String order = "{\"order_id\":\"o-1\", \"total\":100.00,\"price\":1e2, \"qty\":12.50000,"
                + "\"timestamp\":1764230000.0,\"note\":\"x\\ud800y \\u00e9 \\\"q\\\"\",\"big\":123456789012345678901234567890}";

        assertEquals("{\"order_id\":\"o-1\",\"total\":100.00,\"price\":1e2,\"qty\":12.50000,"
                + "\"timestamp\":1764230000.0,\"note\":\"x\\ud800y \\u00e9 \\\"q\\\"\",\"big\":123456789012345678901234567890,"
                + "\"processed_at\":1764230000.000001,\"status\":\"processed\"}", copy(order));
    }

    @Test
    void keepsNestedValuesWholeAndReplacesMembersOfTheAddedNames() {
        String order = "{\"status\":\"new\",\"items\":[{\"sku\":\"a\",\"price\":6.250},{\"sku\":\"}\"}],"
                + "\"meta\":{\"processed_at\":1},\"processed_at\":5, \"last\" : true }";

        assertEquals("{\"items\":[{\"sku\":\"a\",\"price\":6.250},{\"sku\":\"}\"}],\"meta\":{\"processed_at\":1},"
                + "\"last\" : true,\"processed_at\":1764230000.000001,\"status\":\"processed\"}", copy(order));
    }

    @Test
    void copiesMultiByteTextByteForByte() {
        String order = "{\"category\":\"b\u00fccher \ud83d\udcda\",\"n\":-0.0}";

        assertEquals("{\"category\":\"b\u00fccher \ud83d\udcda\",\"n\":-0.0,\"processed_at\":1764230000.000001,"
                + "\"status\":\"processed\"}", copy(order));
        assertEquals("{\"processed_at\":1764230000.000001,\"status\":\"processed\"}", copy("{ }"));
    }

    @Test
    void theOnePassScanFindsTheMembersJacksonsParserFinds() {
        List<String> objects = List.of("{}", " { } ", "{\"a\":1}", "{ \"a\" : 1 , \"b\":[ ] }",
                "{\"s\":\"\\\\\",\"t\":\"\\\"}\"}", "{\"status\":{\"status\":[1,{\"x\":\"]\"}]},\"n\":-1.5e-3}",
                "{\"processed_at\":null,\"e\":\"\u00e9\ud83d\udcda\",\"z\":false}\n",
                "{\"a\":true\t,\r\n\"status\"\t:\"x\"}");
        for (String object : objects) {
            assertSameMembers(object);
        }
        Random random = new Random(24);
        int scanned = 0;
        for (int i = 0; i < 3_000; i++) {
            scanned += assertSameMembers(object(random, 0)) ? 1 : 0;
        }
        assertTrue(scanned > 1_500, "most generated objects have no escape in a top-level name: " + scanned);
    }

    @Test
    void aMemberNameWithAnEscapeIsLeftToJacksonWhichDecodesIt() {
        String order = "{\"st\\u0061tus\":\"new\",\"a\":1}";

        assertNull(ExactJson.scannedMembers(order.getBytes(StandardCharsets.UTF_8), ADDED));
        assertEquals("{\"a\":1,\"processed_at\":1764230000.000001,\"status\":\"processed\"}", copy(order));
    }

    /** @return whether the scan could say (no escape in a top-level name) */
    private static boolean assertSameMembers(String object) {
        byte[] bytes = object.getBytes(StandardCharsets.UTF_8);
        List<int[]> scanned = ExactJson.scannedMembers(bytes, ADDED);
        if (scanned == null) {
            return false;
        }
        assertEquals(spans(ExactJson.parsedMembers(bytes, ADDED)), spans(scanned), object);
        return true;
    }

    private static List<String> spans(List<int[]> members) {
        return members.stream().map(span -> span[0] + "-" + span[1]).toList();
    }

    private static final List<String> NAMES = List.of("status", "processed_at", "order_id", "a", "b\\u0061", "\u00e9");
    private static final List<String> PIECES = List.of("a", "}", "]", "{", "[", ",", ":", "\\\"", "\\\\", "\\u00e9",
            "\u00e9", "\ud83d\udcda", " ");
    private static final List<String> SPACES = List.of("", "", " ", "\n", "\t ", "\r\n");

    private static String object(Random random, int depth) {
        StringBuilder json = new StringBuilder("{").append(space(random));
        int members = random.nextInt(depth == 0 ? 6 : 3);
        for (int i = 0; i < members; i++) {
            json.append(i == 0 ? "" : "," + space(random)).append('"').append(NAMES.get(random.nextInt(NAMES.size())))
                    .append('"').append(space(random)).append(':').append(space(random)).append(value(random, depth))
                    .append(space(random));
        }
        return json.append('}').toString();
    }

    private static String value(Random random, int depth) {
        switch (random.nextInt(depth > 2 ? 5 : 7)) {
            case 0:
                return "-12.50e+3";
            case 1:
                return String.valueOf(random.nextInt());
            case 2:
                return random.nextBoolean() ? "true" : "null";
            case 3:
                return "false";
            case 4: {
                StringBuilder text = new StringBuilder("\"");
                for (int i = random.nextInt(5); i > 0; i--) {
                    text.append(PIECES.get(random.nextInt(PIECES.size())));
                }
                return text.append('"').toString();
            }
            case 5:
                return object(random, depth + 1);
            default: {
                StringBuilder array = new StringBuilder("[").append(space(random));
                for (int i = random.nextInt(3); i >= 0; i--) {
                    array.append(value(random, depth + 1)).append(space(random)).append(i == 0 ? "" : ",");
                }
                return array.append(']').toString();
            }
        }
    }

    private static String space(Random random) {
        return SPACES.get(random.nextInt(SPACES.size()));
    }

    private static String copy(String json) {
        return new String(ExactJson.withMembers(json.getBytes(StandardCharsets.UTF_8), ADDED), StandardCharsets.UTF_8);
    }
}
