package io.readside.projection;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.common.TopicPartition;

/**
 * Per partition of a batch channel: the polls being applied, for a rebalance to wait on ({@link PositionSeeker}). A
 * partition has one consumer, but a channel may have several ({@code mp.messaging.incoming.<channel>.concurrency}),
 * each with a poll in flight: a revocation waits for the polls holding the partitions it revokes, not for others.
 */
final class PollsInFlight {

    private final Map<TopicPartition, Set<CompletableFuture<Void>>> inFlight = new ConcurrentHashMap<>();

    /** A poll of {@code partitions} starts being applied; complete the future returned once it committed or failed. */
    CompletableFuture<Void> begin(Collection<TopicPartition> partitions) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        for (TopicPartition partition : partitions) {
            Set<CompletableFuture<Void>> polls = inFlight.computeIfAbsent(partition,
                    p -> ConcurrentHashMap.newKeySet());
            polls.add(done);
            done.whenComplete((result, failure) -> polls.remove(done));
        }
        return done;
    }

    /** @return false when {@code bound} was reached before the polls holding {@code partitions} were done */
    boolean await(Collection<TopicPartition> partitions, Duration bound) {
        CompletableFuture<?>[] pending = partitions.stream().map(inFlight::get).filter(Objects::nonNull)
                .flatMap(Set::stream).distinct().toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(pending).get(bound.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
