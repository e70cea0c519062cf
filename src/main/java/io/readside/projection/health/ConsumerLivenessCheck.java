package io.readside.projection.health;

import java.time.Duration;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.Consumer;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;

import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;

/**
 * Alive while every Kafka consumer's polling loop answers: a task is run on each polling thread. A slow or
 * unreachable database does not make it fail (the loop goes on polling while records wait), so Kubernetes does
 * not restart a pod for an outage a restart cannot cure.
 */
@Liveness
@ApplicationScoped
public class ConsumerLivenessCheck implements HealthCheck {

    static final Duration ANSWER_WITHIN = Duration.ofSeconds(10);
    private static final Function<Consumer<Object, Object>, Long> PING = consumer -> System.nanoTime();

    @Inject
    KafkaClientService clients;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("readside-consumer-loops").up();
        for (String channel : clients.getConsumerChannels()) {
            for (KafkaConsumer<Object, Object> consumer : clients.<Object, Object> getConsumers(channel)) {
                long start = System.nanoTime();
                try {
                    consumer.runOnPollingThread(PING).await().atMost(ANSWER_WITHIN);
                    response.withData(channel, "polling loop answered in "
                            + (System.nanoTime() - start) / 1_000_000 + " ms");
                } catch (RuntimeException e) {
                    response.down().withData(channel, "polling loop did not answer within "
                            + ANSWER_WITHIN.toSeconds() + " s: " + e);
                }
            }
        }
        return response.build();
    }
}
