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

/**
 * Per topic of a batch channel: the polls being applied, for a rebalance to wait on ({@link PositionSeeker}). One per
 * consumer of the channel: with {@code mp.messaging.incoming.<channel>.concurrency} several at once.
 */
final class PollsInFlight {

    private final Map<String, Set<CompletableFuture<Void>>> inFlight = new ConcurrentHashMap<>();

    /** A poll of {@code topic} starts being applied; complete the returned future once it is committed or failed. */
    CompletableFuture<Void> begin(String topic) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Set<CompletableFuture<Void>> ofTopic = inFlight.computeIfAbsent(topic, t -> ConcurrentHashMap.newKeySet());
        ofTopic.add(done);
        done.whenComplete((result, failure) -> ofTopic.remove(done));
        return done;
    }

    /** @return false when {@code bound} was reached before the polls of {@code topics} were done */
    boolean await(Collection<String> topics, Duration bound) {
        CompletableFuture<?>[] pending = topics.stream().map(inFlight::get).filter(Objects::nonNull)
                .flatMap(Set::stream).toArray(CompletableFuture[]::new);
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
