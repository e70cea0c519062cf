package io.readside.commands.saga;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

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

    private static final JsonFactory JSON = new JsonFactory();

    /**
     * This command as the service's ObjectMapper writes it (snake_case, null members left out, the time in ISO-8601,
     * the amount as a JSON number), written straight with Jackson's generator: a poll of orders makes as many
     * payment requests, and the mapper's bean serialization of each was 7% of the orders channel's thread
     * (docs/benchmarks.md, sixth round). {@code PaymentCommandJsonTest} holds the two to the same text.
     */
    public String json() {
        return json(requestedAt == null ? null : requestedAt.toString());
    }

    /** As {@link #json()}, with {@code requestedAt} already as its ISO-8601 text (one per poll, not per command). */
    String json(String requestedAtText) {
        StringWriter out = new StringWriter(160);
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            if (type != null) {
                json.writeStringField("type", type);
            }
            if (orderId != null) {
                json.writeStringField("order_id", orderId);
            }
            if (userId != null) {
                json.writeNumberField("user_id", userId);
            }
            if (amount != null) {
                json.writeNumberField("amount", amount);
            }
            if (requestedAtText != null) {
                json.writeStringField("requested_at", requestedAtText);
            }
            if (reason != null) {
                json.writeStringField("reason", reason);
            }
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a writer in memory does not fail
        }
        return out.toString();
    }
}
