package io.readside.orders.rest;

import java.util.List;

/** One page of orders in order id order; {@code next_after} is the cursor of the next page, null on the last. */
public record OrderPage(List<OrderView> orders, String nextAfter) {
}
