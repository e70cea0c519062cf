package io.readside.orders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import io.readside.projection.EventJson;
import io.readside.projection.InvalidRecordException;

/** Pure logic: how a record of orders is read, and why one is refused. */
class OrderEventTest {

    private static final BigDecimal MAX = new BigDecimal("1000000");

    @Test
    void readsTheGuidesOrderWithExactMoney() {
        OrderEvent order = parse("o-1", """
                {"order_id":"o-1","user_id":1007,"category":"books","total":12.50,"timestamp":1764230000.5,
                 "coupon":"X"}""");

        assertEquals("o-1", order.orderId());
        assertEquals(1007, order.userId());
        assertEquals("books", order.category());
        assertEquals(new BigDecimal("12.50"), order.total());
        assertEquals(Instant.parse("2025-11-27T07:53:20.500Z"), order.createdAt());
        assertNull(order.itemCount());
    }

    @Test
    void countsTheItemsQuantitiesAndTakesMoneyAsText() {
        OrderEvent order = parse("o-2", """
                {"order_id":"o-2","user_id":7,"category":"toys","total":"0.30","timestamp":1764230000,
                 "items":[{"sku":"a","qty":2,"price":0.1},{"sku":"b","qty":1,"price":"0.10"}]}""");

        assertEquals(3, order.itemCount());
        assertEquals(new BigDecimal("0.30"), order.total());
    }

    @Test
    void refusesEachKindOfBadOrderWithItsReason() {
        String ok = "\"order_id\":\"o\",\"user_id\":1,\"category\":\"c\",\"timestamp\":1764230000";
        assertReason(InvalidRecordException.INVALID_VALUE, "o", "{" + ok + ",\"total\":-1}");
        assertReason(InvalidRecordException.INVALID_VALUE, "o", "{" + ok + ",\"total\":1.005}");
        assertReason(InvalidRecordException.INVALID_VALUE, "o", "{" + ok + ",\"total\":1e9}");
        assertReason(InvalidRecordException.WRONG_TYPE, "o", "{" + ok + ",\"total\":\"ten\"}");
        assertReason(InvalidRecordException.MISSING_FIELD, "o", "{" + ok + "}");
        assertReason(InvalidRecordException.KEY_MISMATCH, "p", "{" + ok + ",\"total\":1}");
        assertReason(InvalidRecordException.MISSING_KEY, null, "{" + ok + ",\"total\":1}");
        assertReason(InvalidRecordException.WRONG_TYPE, "o", "{" + ok + ",\"total\":1,\"items\":{}}");
        assertReason(InvalidRecordException.INVALID_VALUE, "o",
                "{" + ok + ",\"total\":1,\"items\":[{\"sku\":\"a\",\"qty\":0}]}");
        assertReason(InvalidRecordException.MISSING_FIELD, "o", null);
        assertReason(InvalidRecordException.OVERSIZED, "o",
                "{" + ok + ",\"total\":1,\"note\":\"" + "x".repeat(EventJson.MAX_VALUE_BYTES) + "\"}");
    }

    @Test
    void refusesNumbersByTheirSizeBeforeAnyArithmetic() {
        String ok = "\"order_id\":\"o\",\"user_id\":1,\"category\":\"c\"";
        String[] totals = { "1e100000000", "-1e2000000", "1e400", "\"1e100000000\"", "12.500000000000000001",
                "6.2500000000000001", "1e-400", "\"" + "9".repeat(50) + "\"", "9".repeat(999) };
        for (String total : totals) {
            String json = "{" + ok + ",\"total\":" + total + ",\"timestamp\":1764230000}";
            InvalidRecordException e = assertThrows(InvalidRecordException.class, () -> parse("o", json), total);
            assertTrue(e.getMessage().length() <= InvalidRecordException.MAX_MESSAGE_CHARS + 40, e.getMessage());
        }
        for (String timestamp : new String[] { "1e100000000", "-1", "1e-100000000", "\"+294276-12-31T00:00:00Z\"" }) {
            String json = "{" + ok + ",\"total\":1,\"timestamp\":" + timestamp + "}";
            assertEquals(InvalidRecordException.INVALID_VALUE,
                    assertThrows(InvalidRecordException.class, () -> parse("o", json), timestamp).reason());
        }
        assertEquals(InvalidRecordException.INVALID_VALUE, assertThrows(InvalidRecordException.class,
                () -> parse("o", "{\"order_id\":\"o\",\"category\":\"c\",\"total\":1,\"user_id\":1e100000000,"
                        + "\"timestamp\":1764230000}"))
                .reason());
    }

    @Test
    void takesTrailingZerosAsTheSameAmountButNeverRoundsAThirdDecimal() {
        String base = "{\"order_id\":\"o\",\"user_id\":1,\"category\":\"c\",\"timestamp\":1764230000,\"total\":";
        assertEquals(new BigDecimal("12.50"), parse("o", base + "12.50000}").total());
        assertEquals(new BigDecimal("100.00"), parse("o", base + "1e2}").total());
        assertEquals(new BigDecimal("0.00"), parse("o", base + "0e-400}").total());
        assertReason(InvalidRecordException.INVALID_VALUE, "o", base + "12.505}");
    }

    @Test
    void itemsWhoseAmountsAddUpAboveThePlausibleMaximumAreRefusedAsATotalWouldBe() {
        String base = "{\"order_id\":\"o\",\"user_id\":1,\"category\":\"c\",\"timestamp\":1764230000,\"total\":1.00,"
                + "\"items\":";
        // one line of 1,000,000 x 999,999,999,999.99: a single record would put about 1e18 on a SKU
        assertReason(InvalidRecordException.INVALID_VALUE, "o",
                base + "[{\"sku\":\"s\",\"qty\":1000000,\"price\":999999999999.99}]}");
        // lines each within the maximum, together above it
        assertReason(InvalidRecordException.INVALID_VALUE, "o",
                base + "[{\"sku\":\"a\",\"qty\":2,\"price\":400000},{\"sku\":\"b\",\"qty\":1,\"price\":200000.01}]}");
        assertEquals(2, parse("o", base + "[{\"sku\":\"a\",\"qty\":2,\"price\":400000},{\"qty\":1,\"price\":200000}]}")
                .items().size(), "exactly the maximum, a line without a SKU counted too");
        assertEquals(1, parse("o", base + "[{\"sku\":\"a\",\"qty\":1000000}]}").items().size(),
                "no price: no amount");
    }

    @Test
    void refusesTextThatPostgresqlOrUnicodeCannotHoldInsteadOfRewritingIt() {
        String rest = ",\"user_id\":1,\"total\":1,\"timestamp\":1764230000";
        assertReason(InvalidRecordException.INVALID_VALUE, "o", "{\"order_id\":\"o\",\"category\":\"\\udc00\"" + rest + "}");
        assertReason(InvalidRecordException.INVALID_VALUE, "o", "{\"order_id\":\"o\",\"category\":\"bo\\u0000oks\"" + rest + "}");
        assertReason(InvalidRecordException.INVALID_VALUE, "o",
                "{\"order_id\":\"o\",\"category\":\"c\",\"items\":[{\"sku\":\"\\u0000\",\"qty\":1}]" + rest + "}");
        assertReason(InvalidRecordException.INVALID_VALUE, "..", "{\"order_id\":\"..\",\"category\":\"c\"" + rest + "}");
        assertReason(InvalidRecordException.INVALID_VALUE, "\ufffd",
                "{\"order_id\":\"\\ufffd\",\"category\":\"c\"" + rest + "}"); // no GET /orders/{id} could name it
        assertEquals("bo\ud83d\udcdaoks", parse("o", "{\"order_id\":\"o\",\"category\":\"bo\\ud83d\\udcdaoks\"" + rest + "}")
                .category(), "a surrogate pair is a character like any other");
    }

    @Test
    void refusesAKeyThatIsNotExactlyTheOrderIdWhateverItsBytes() {
        byte[] value = "{\"order_id\":\"o\",\"user_id\":1,\"category\":\"c\",\"total\":1,\"timestamp\":1764230000}"
                .getBytes(StandardCharsets.UTF_8);
        assertEquals(InvalidRecordException.NOT_UTF8, assertThrows(InvalidRecordException.class,
                () -> OrderEvent.parse(new byte[] { (byte) 0xc0, (byte) 0xaf }, value, LIMITS)).reason());
        InvalidRecordException mismatch = assertThrows(InvalidRecordException.class,
                () -> OrderEvent.parse("k".repeat(600_000).getBytes(StandardCharsets.UTF_8), value, LIMITS));
        assertEquals(InvalidRecordException.KEY_MISMATCH, mismatch.reason());
        assertTrue(mismatch.getMessage().length() < 200, "the message cuts the key: " + mismatch.getMessage().length());
    }

    @Test
    void refusesAnEventTimeAheadOfTheLatestAcceptedAsAFutureTimestamp() {
        Instant latest = Instant.parse("2025-11-27T08:00:00Z");
        byte[] value = "{\"order_id\":\"o\",\"user_id\":1,\"category\":\"c\",\"total\":1,\"timestamp\":\"2025-11-27T08:00:01Z\"}"
                .getBytes(StandardCharsets.UTF_8);
        InvalidRecordException e = assertThrows(InvalidRecordException.class,
                () -> OrderEvent.parse(bytes("o"), value, new OrderEvent.Limits(MAX, latest)));
        assertEquals(InvalidRecordException.FUTURE_TIMESTAMP, e.reason());
        assertEquals(Instant.parse("2025-11-27T08:00:01Z"),
                OrderEvent.parse(bytes("o"), value, new OrderEvent.Limits(MAX, latest.plusSeconds(1))).createdAt());
    }

    @Test
    void refusesWhatJacksonWouldReadOneWayAndOthersAnotherOrNotAtAll() {
        String ok = "\"order_id\":\"o\",\"user_id\":1,\"category\":\"c\",\"timestamp\":1764230000";
        // an exponent beyond an int: Jackson's BigDecimal throws NumberFormatException, which must not escape
        for (String hostile : new String[] { "{" + ok + ",\"total\":1,\"x\":1e2147483648}",
                "{" + ok + ",\"total\":1e-9999999999}", "{" + ok + ",\"total\":1,\"total\":900000}" }) {
            assertReason(InvalidRecordException.MALFORMED_JSON, "o", hostile);
        }
        // UTF-16 and UTF-32 text of ASCII characters is valid UTF-8 byte for byte (NULs), and Jackson would read it
        String json = "{" + ok + ",\"total\":1}";
        for (java.nio.charset.Charset charset : new java.nio.charset.Charset[] { StandardCharsets.UTF_16LE,
                StandardCharsets.UTF_16BE, java.nio.charset.Charset.forName("UTF-32") }) {
            InvalidRecordException e = assertThrows(InvalidRecordException.class,
                    () -> OrderEvent.parse(bytes("o"), json.getBytes(charset), LIMITS), charset.name());
            assertEquals(InvalidRecordException.NOT_UTF8, e.reason(), charset.name());
        }
        // money as ASCII digits only
        for (String total : new String[] { "\"\u0661\u0662.\u0665\u0660\"", "\"\uff11\uff12\"", "\" 12\"", "\"12 \"" }) {
            assertReason(InvalidRecordException.WRONG_TYPE, "o", "{" + ok + ",\"total\":" + total + "}");
        }
    }

    private static final OrderEvent.Limits LIMITS = new OrderEvent.Limits(MAX, null);

    private static byte[] bytes(String text) {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }

    private static OrderEvent parse(String key, String json) {
        return OrderEvent.parse(bytes(key), bytes(json), LIMITS);
    }

    private static void assertReason(String reason, String key, String json) {
        InvalidRecordException e = assertThrows(InvalidRecordException.class, () -> parse(key, json), json);
        assertEquals(reason, e.reason(), () -> json + " -> " + e.getMessage());
    }
}
