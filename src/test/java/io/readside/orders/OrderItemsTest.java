package io.readside.orders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.math.BigDecimal;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The orders table's items column, written and read back (pure). */
class OrderItemsTest {

    @Test
    void itemsReadBackAreTheItemsWrittenPricesAtTheirScale() {
        List<OrderEvent.Item> items = List.of(new OrderEvent.Item("b-1", 2, new BigDecimal("100.00")),
                new OrderEvent.Item(null, 1, new BigDecimal("0.00")), new OrderEvent.Item("b-2", 3, null));

        List<OrderEvent.Item> read = OrderItems.read(OrderItems.write(items));

        assertEquals(items, read, "equal records: prices equal with their scale (100.00, not 1E+2)");
        assertEquals("100.00", read.get(0).price().toPlainString());
    }

    @Test
    void noItemsListedIsNullAndAnEmptyListStaysEmpty() {
        assertNull(OrderItems.write(null));
        assertNull(OrderItems.read(null));
        assertEquals(List.of(), OrderItems.read(OrderItems.write(List.of())));
    }
}
