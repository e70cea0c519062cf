package io.readside.projection;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** Pure logic: the enriched copy of a record keeps the bytes of every member it copies. */
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

    private static String copy(String json) {
        return new String(ExactJson.withMembers(json.getBytes(StandardCharsets.UTF_8), ADDED), StandardCharsets.UTF_8);
    }
}
