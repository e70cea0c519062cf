package io.readside.commands.saga;

import java.math.BigDecimal;
import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonInclude;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * What the saga asks of the payment service, key = order id. On {@code payment-requests}:
 * {@code {"type":"payment.requested","order_id":"o-1","user_id":1007,"amount":12.50,"requested_at":"..."}} and
 * {@code "type":"payment.cancel_requested"} (with a {@code reason}); on {@code refund-requests}
 * {@code "type":"refund.requested"}. User and amount are absent only when refunding a payment for an unknown order.
 */
@RegisterForReflection
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PaymentCommand(String type, String orderId, Long userId, BigDecimal amount, Instant requestedAt,
        String reason) {

    public static final String REQUESTED = "payment.requested";
    public static final String CANCEL_REQUESTED = "payment.cancel_requested";
    public static final String REFUND_REQUESTED = "refund.requested";
}
