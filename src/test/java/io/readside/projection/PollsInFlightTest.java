package io.readside.projection;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

/**
 * Several consumers of one channel ({@code mp.messaging.incoming.orders.concurrency}) apply polls of the same topic at
 * once: a rebalance waits for every one of them, not only for the last to start.
 */
class PollsInFlightTest {

    private static final Duration SHORT = Duration.ofMillis(50);

    @Test
    void aRebalanceWaitsForEveryPollOfTheTopicInFlight() {
        PollsInFlight polls = new PollsInFlight();
        CompletableFuture<Void> first = polls.begin("orders");
        CompletableFuture<Void> second = polls.begin("orders");

        second.complete(null);
        assertFalse(polls.await(List.of("orders"), SHORT), "the first consumer's poll is still being applied");
        first.complete(null);
        assertTrue(polls.await(List.of("orders"), SHORT));
    }

    @Test
    void aFailedPollIsNoLongerWaitedFor() {
        PollsInFlight polls = new PollsInFlight();
        polls.begin("orders").completeExceptionally(new IllegalStateException("refused"));
        CompletableFuture<Void> other = polls.begin("user-events");

        assertTrue(polls.await(List.of("orders"), SHORT));
        assertFalse(polls.await(List.of("orders", "user-events"), SHORT));
        other.complete(null);
        assertTrue(polls.await(List.of("orders", "user-events"), SHORT));
    }

    @Test
    void nothingInFlightIsNoWait() {
        assertTrue(new PollsInFlight().await(List.of("orders"), Duration.ZERO));
    }
}
