package io.readside.orders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
        assertEquals("X", order.json().get("coupon").asText(), "unknown fields are kept for processed-orders");
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

    private static OrderEvent parse(String key, String json) {
        return OrderEvent.parse(key, json == null ? null : json.getBytes(StandardCharsets.UTF_8), MAX);
    }

    private static void assertReason(String reason, String key, String json) {
        InvalidRecordException e = assertThrows(InvalidRecordException.class, () -> parse(key, json), json);
        assertEquals(reason, e.reason(), () -> json + " -> " + e.getMessage());
    }
}
