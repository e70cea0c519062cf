package io.readside.commands.saga;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.time.Instant;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.consistency.ConsistencyToken;
import io.readside.testing.ShortPaymentTimeout;
import io.readside.testing.TestProducer;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.smallrye.reactive.messaging.ChannelRegistry;

/**
 * The payment time-out follows the log, not the wall clock: a result written in time but not yet applied (the
 * payments consumer lags) does not let its order time out and be refunded.
 */
@QuarkusTest
@TestProfile(ShortPaymentTimeout.class)
class PaymentTimeoutFollowsTheLogTest {

    private static final Duration STEP = Duration.ofSeconds(60);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    ChannelRegistry channels;

    @Test
    void anOrderWhosePaymentWaitsInTheLogIsNotTimedOutWhileTheConsumerLagsAndIsPaidOnceItCatchesUp() {
        channels.getPausable(PaymentsProjector.CHANNEL).pause();
        String lagging;
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            // the payment service answers within the 5 s time-out, at once (however slow the machine); the consumer
            // does not apply it
            lagging = place(730_001);
            producer.send("payments", lagging, """
                    {"order_id":"%s","type":"payment.completed","timestamp":"%s"}""".formatted(lagging, Instant.now()));
        }
        String unanswered = place(730_002);
        // well past the time-out (checked every second), both orders stay PENDING: a result may be in the log
        await().during(Duration.ofSeconds(10)).atMost(STEP).until(
                () -> status(lagging).equals("PENDING") && status(unanswered).equals("PENDING"));

        channels.getPausable(PaymentsProjector.CHANNEL).resume();
        await().atMost(STEP).until(() -> status(lagging).equals("PAID"));
        // once the consumer has caught up, the order that really had no answer times out
        await().atMost(STEP).until(() -> status(unanswered).equals("PAYMENT_TIMEOUT"));
    }

    private static String place(long userId) {
        Response accepted = given().contentType(ContentType.JSON)
                .body("{\"user_id\":" + userId + ",\"category\":\"books\",\"total\":\"3.00\"}").post("/orders");
        accepted.then().statusCode(202);
        String orderId = accepted.jsonPath().getString("order_id");
        given().header(ConsistencyToken.HEADER, accepted.header(ConsistencyToken.HEADER)).get("/orders/" + orderId)
                .then().statusCode(200).body("status", equalTo("PENDING"));
        return orderId;
    }

    private static String status(String orderId) {
        return given().get("/orders/" + orderId).then().statusCode(200).extract().jsonPath().getString("status");
    }
}
