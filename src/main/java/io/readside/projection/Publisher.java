package io.readside.projection;

import java.time.Duration;
import java.util.function.Consumer;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * After a commit: what the read models changed is counted, then published at least once (retried with back-off
 * until the broker has every record; the batch is acknowledged only then).
 */
@ApplicationScoped
public class Publisher {

    private static final Logger LOG = Logger.getLogger(Publisher.class);

    /** Sends in flight at once per batch (the producer batches them; its own buffer bounds the rest). */
    private static final int CONCURRENCY = 256;

    /** Sends the records (lazy: when subscribed); completes when the broker has them all. */
    public Uni<Void> send(String channel, java.util.List<Uni<Void>> sends) {
        if (sends.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return Multi.createFrom().iterable(sends).onItem().transformToUni(send -> send)
                .merge(CONCURRENCY).collect().last().replaceWithVoid()
                .onFailure().invoke(e -> LOG.warnf("%s: publishing %d records failed, retrying: %s", channel,
                        sends.size(), e.toString()))
                .onFailure().retry().withBackOff(Duration.ofMillis(200), Duration.ofSeconds(10)).indefinitely();
    }

    /** While the database or broker fails, the work waits (nothing acknowledged) and is tried again. */
    public <T> Uni<T> retrying(Uni<T> attempt, Consumer<Throwable> failed) {
        return attempt.onFailure().invoke(failed)
                .onFailure().retry().withBackOff(Duration.ofMillis(200), Duration.ofSeconds(10)).indefinitely();
    }
}
