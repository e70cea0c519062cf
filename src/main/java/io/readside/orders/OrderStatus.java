package io.readside.orders;

/**
 * Where an order is. An order is PENDING when it is first projected (its payment is requested then); the payment
 * saga ({@code io.readside.commands.saga}) moves it on. REFUND_REQUESTED: a paid order was cancelled and its refund
 * is on its way.
 */
public enum OrderStatus {
    PENDING, PAID, PAYMENT_FAILED, PAYMENT_TIMEOUT, CANCELLED, REFUND_REQUESTED, REFUNDED
}
