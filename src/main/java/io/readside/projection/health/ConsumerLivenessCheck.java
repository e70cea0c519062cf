package io.readside.projection.health;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.Consumer;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;

import io.readside.projection.PositionSeeker;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;

/**
 * Alive while every Kafka consumer's polling loop answers: a task is run on each polling thread. A slow or
 * unreachable database does not make it fail (the loop goes on polling while records wait), so Kubernetes does
 * not restart a pod for an outage a restart cannot cure; nor does a rebalance during one, whose listeners hold the
 * polling thread for seconds ({@link PositionSeeker}): a loop busy in a listener is alive within
 * {@link #LISTENER_WITHIN}.
 */
@Liveness
@ApplicationScoped
public class ConsumerLivenessCheck implements HealthCheck {

    static final Duration ANSWER_WITHIN = Duration.ofSeconds(10);
    /**
     * A polling thread in a rebalance listener is alive while the listener runs within this: the listeners wait for
     * the poll in flight (10 s) and ask PostgreSQL and the broker (5 s each), all the longer in an outage.
     */
    static final Duration LISTENER_WITHIN = Duration.ofSeconds(60);
    private static final Function<Consumer<Object, Object>, Long> PING = consumer -> System.nanoTime();
    private static final long STEP_MILLIS = 100;

    @Inject
    KafkaClientService clients;
    @Inject
    @Identifier(PositionSeeker.NAME)
    PositionSeeker seeker;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("readside-consumer-loops").up();
        for (String channel : clients.getConsumerChannels()) {
            List<KafkaConsumer<Object, Object>> consumers = clients.getConsumers(channel);
            for (int i = 0; i < consumers.size(); i++) {
                KafkaConsumer<Object, Object> consumer = consumers.get(i);
                response.withData(dataKey(channel, consumers.size(), i, consumer.configuration().get("client.id")),
                        answer(consumer, response));
            }
        }
        return response.build();
    }

    /**
     * A consumer's line in the check's data (pure): the channel, and with several consumers on it
     * ({@code partitions} > 1) its client id, so that one consumer's answer does not hide another's.
     */
    static String dataKey(String channel, int consumers, int index, Object clientId) {
        return consumers == 1 ? channel : channel + " " + (clientId != null ? clientId : "#" + index);
    }

    /**
     * Whether the consumer's polling loop answers within {@link #ANSWER_WITHIN}, or is busy in a rebalance listener
     * within {@link #LISTENER_WITHIN} (then it is not waited for: a probe must not outwait it).
     */
    private String answer(KafkaConsumer<Object, Object> consumer, HealthCheckResponseBuilder response) {
        long start = System.nanoTime();
        CompletableFuture<Long> ping = consumer.runOnPollingThread(PING).subscribeAsCompletionStage();
        while (true) {
            try {
                ping.get(STEP_MILLIS, TimeUnit.MILLISECONDS);
                return "polling loop answered in " + (System.nanoTime() - start) / 1_000_000 + " ms";
            } catch (TimeoutException e) {
                Optional<Duration> listening = seeker.inListenerFor(consumer.unwrap());
                if (listening.isPresent() && listening.get().compareTo(LISTENER_WITHIN) < 0) {
                    return "polling loop in a rebalance listener for " + listening.get().toMillis() + " ms";
                }
                if (System.nanoTime() - start >= ANSWER_WITHIN.toNanos()) {
                    response.down();
                    return "polling loop did not answer within " + ANSWER_WITHIN.toSeconds() + " s"
                            + listening.map(d -> " (in a rebalance listener for " + d.toSeconds() + " s)").orElse("");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                response.down();
                return "interrupted";
            } catch (ExecutionException e) {
                response.down();
                return "polling loop failed: " + e.getCause();
            }
        }
    }
}
