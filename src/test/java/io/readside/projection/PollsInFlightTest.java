package io.readside.projection;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * Several consumers of one channel ({@code mp.messaging.incoming.orders.concurrency}) apply polls of the same topic at
 * once: a revocation waits for every poll holding a partition it revokes, not only for the last poll to start, and not
 * for the polls of partitions it leaves where they are. Pure logic.
 */
class PollsInFlightTest {

    private static final Duration SHORT = Duration.ofMillis(50);
    private static final TopicPartition ORDERS_0 = new TopicPartition("orders", 0);
    private static final TopicPartition ORDERS_1 = new TopicPartition("orders", 1);
    private static final TopicPartition ORDERS_2 = new TopicPartition("orders", 2);

    @Test
    void aRevocationWaitsForEveryPollHoldingItsPartitions() {
        PollsInFlight polls = new PollsInFlight();
        CompletableFuture<Void> first = polls.begin(List.of(ORDERS_0, ORDERS_1)); // one consumer's poll
        CompletableFuture<Void> second = polls.begin(List.of(ORDERS_2)); // the other's, begun later

        second.complete(null);
        assertFalse(polls.await(List.of(ORDERS_0, ORDERS_1, ORDERS_2), SHORT),
                "the first consumer's poll is still being applied");
        first.complete(null);
        assertTrue(polls.await(List.of(ORDERS_0, ORDERS_1, ORDERS_2), SHORT));
    }

    @Test
    void twoPollsHoldingOnePartitionAreBothWaitedFor() {
        PollsInFlight polls = new PollsInFlight();
        CompletableFuture<Void> stale = polls.begin(List.of(ORDERS_0)); // the previous owner's, still retrying
        CompletableFuture<Void> fresh = polls.begin(List.of(ORDERS_0));

        fresh.complete(null);
        assertFalse(polls.await(List.of(ORDERS_0), SHORT));
        stale.complete(null);
        assertTrue(polls.await(List.of(ORDERS_0), SHORT));
    }

    @Test
    void aRevocationDoesNotWaitForAPollOfPartitionsItLeaves() {
        PollsInFlight polls = new PollsInFlight();
        CompletableFuture<Void> other = polls.begin(List.of(ORDERS_2));

        assertTrue(polls.await(List.of(ORDERS_0, ORDERS_1), SHORT), "the other consumer's partition is not revoked");
        assertFalse(polls.await(List.of(ORDERS_2), SHORT));
        other.complete(null);
    }

    @Test
    void aFailedPollIsNoLongerWaitedFor() {
        PollsInFlight polls = new PollsInFlight();
        polls.begin(List.of(ORDERS_0)).completeExceptionally(new IllegalStateException("refused"));
        CompletableFuture<Void> other = polls.begin(List.of(ORDERS_1));

        assertTrue(polls.await(List.of(ORDERS_0), SHORT));
        assertFalse(polls.await(List.of(ORDERS_0, ORDERS_1), SHORT));
        other.complete(null);
        assertTrue(polls.await(List.of(ORDERS_0, ORDERS_1), SHORT));
    }

    @Test
    void nothingInFlightIsNoWait() {
        assertTrue(new PollsInFlight().await(List.of(ORDERS_0), Duration.ZERO));
    }
}
