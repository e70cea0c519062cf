package io.readside.commands.saga;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.arc.profile.IfBuildProfile;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;

/**
 * Dev mode only: a stand-in payment service so the whole saga runs on a laptop. It answers each payment request
 * after {@code readside.dev.payments.delay} with payment.completed (share {@code readside.dev.payments.success-ratio})
 * or payment.failed, unless the request was cancelled meanwhile, and each refund request with payment.refunded.
 */
@IfBuildProfile("dev")
@ApplicationScoped
public class SimulatedPaymentService {

    private static final Logger LOG = Logger.getLogger(SimulatedPaymentService.class);

    @Inject
    ObjectMapper mapper;
    @Inject
    @Channel("simulated-payments")
    MutinyEmitter<String> payments;

    @ConfigProperty(name = "readside.dev.payments.success-ratio")
    double successRatio;
    @ConfigProperty(name = "readside.dev.payments.delay")
    Duration delay;

    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();

    @Incoming("simulated-payment-requests")
    public Uni<Void> onPaymentRequest(String value) throws Exception {
        JsonNode request = mapper.readTree(value);
        String orderId = request.path("order_id").asText();
        if (PaymentCommand.CANCEL_REQUESTED.equals(request.path("type").asText())) {
            cancelled.add(orderId);
            return Uni.createFrom().voidItem();
        }
        boolean success = ThreadLocalRandom.current().nextDouble() < successRatio;
        // answered later, without holding up the next request
        Uni.createFrom().voidItem().onItem().delayIt().by(delay)
                .chain(() -> cancelled.remove(orderId) ? Uni.createFrom().voidItem()
                        : answer(orderId, success ? "payment.completed" : "payment.failed",
                                success ? null : "card declined (simulated)"))
                .subscribe().with(done -> { }, e -> LOG.warnf("simulated payment for %s not sent: %s", orderId, e));
        return Uni.createFrom().voidItem();
    }

    @Incoming("simulated-refund-requests")
    public Uni<Void> onRefundRequest(String value) throws Exception {
        String orderId = mapper.readTree(value).path("order_id").asText();
        return Uni.createFrom().voidItem().onItem().delayIt().by(delay)
                .chain(() -> answer(orderId, "payment.refunded", null));
    }

    private Uni<Void> answer(String orderId, String type, String reason) {
        Map<String, Object> result = reason == null
                ? Map.of("order_id", orderId, "type", type, "timestamp", Instant.now().toString())
                : Map.of("order_id", orderId, "type", type, "reason", reason, "timestamp", Instant.now().toString());
        try {
            return payments.sendMessage(KafkaRecord.of(orderId, mapper.writeValueAsString(result)));
        } catch (JsonProcessingException e) {
            return Uni.createFrom().failure(e);
        }
    }
}
