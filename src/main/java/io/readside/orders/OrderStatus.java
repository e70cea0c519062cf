package io.readside.orders;

/** Where an order is. An order is PENDING when it is first projected; the payment saga moves it on. */
public enum OrderStatus {
    PENDING, PAID, PAYMENT_FAILED, PAYMENT_TIMEOUT, CANCELLED, REFUNDED
}
