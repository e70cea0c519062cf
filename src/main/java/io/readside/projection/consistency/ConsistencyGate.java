package io.readside.projection.consistency;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.StartupEvent;
import io.readside.values.Quote;
import io.readside.web.ProblemException;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * Read-your-writes: waits, bounded, until a read model has applied the write a token names. Reads the positions the
 * projectors commit with their changes, so it holds whichever instance applied the record. An {@code outbox:} token
 * first waits for the relay to publish the row (the outbox table belongs to the command side; only its
 * position columns are read here).
 * <p>
 * A wait holds no pool connection and runs no query of its own while it waits: one poll per instance
 * ({@link PositionPoll}, every {@code readside.consistency.poll-interval} while anybody waits, idle otherwise) reads
 * all the positions, and the outbox rows still awaited, in two statements and releases every waiter it satisfies. At
 * most
 * {@code readside.consistency.max-waits} requests wait at once, at most {@code readside.consistency.max-waits-per-caller}
 * of one caller (a token's subject); the next one is answered 503 at once.
 * <p>
 * This class admits, times and bounds the waits; whether a token was issued is {@link IssuedTokens}'s to say.
 */
@ApplicationScoped
public class ConsistencyGate {

    private static final int RETRY_AFTER_SECONDS = 1;

    @Inject
    Config config;
    @Inject
    MeterRegistry registry;
    @Inject
    IssuedTokens issued;
    @Inject
    PositionPoll poll;

    @ConfigProperty(name = "readside.consistency.max-wait")
    Duration maxWait;
    @ConfigProperty(name = "readside.consistency.max-waits")
    int maxWaits;
    @ConfigProperty(name = "readside.consistency.max-waits-per-caller")
    int maxWaitsPerCaller;

    /** topic -> consumer group, per set of channels */
    private final Map<List<String>, Map<String, String>> topics = new ConcurrentHashMap<>();
    /** Requests holding one of the {@code max-waits} places, from the token's first check to the answer. */
    private final AtomicInteger waits = new AtomicInteger();
    /** The places each caller (a token's subject) holds; an entry goes with its caller's last wait. */
    private final Map<String, AtomicInteger> byCaller = new ConcurrentHashMap<>();

    /** The gauge and the counters from the start, at 0 (see ProjectionMetrics.registerMeters). */
    void metrics(@Observes StartupEvent start) {
        registry.gauge("readside.consistency.waits", waits);
        registry.counter("readside.consistency.rejected");
        registry.counter("readside.consistency.timeouts");
    }

    /** Callers holding a place now, for the tests: each entry goes with its caller's last place. */
    int callersHoldingPlaces() {
        return byCaller.size();
    }

    /** Requests waiting now (or checking their token), for the gauge and the tests. */
    public int waitsInProgress() {
        return waits.get();
    }

    /**
     * Completes once every channel's read model reading the token's topic has applied it; fails with 503 (and a
     * Retry-After) past {@code readside.consistency.max-wait}, or at once when {@code max-waits} requests already
     * wait; with 400 at once for a token this read model cannot honour or that was never issued.
     */
    public Uni<Void> await(ConsistencyToken token, List<String> channels, String caller) {
        return await(token, channels, caller, left -> Uni.createFrom().voidItem());
    }

    /**
     * {@link #await(ConsistencyToken, List, String)}, then {@code applied} (handed what is left of
     * {@code readside.consistency.max-wait}) while the request still holds its place: what a read does once the
     * write is applied (is the read model behind? which replica answers?) counts against the same caps.
     */
    public Uni<Void> await(ConsistencyToken token, List<String> channels, String caller,
            Function<Duration, Uni<Void>> applied) {
        Map<String, String> groups = topics.computeIfAbsent(channels, this::groupsByTopic);
        if (!token.isOutbox()) {
            IssuedTokens.checkApplied(token, groups);
        }
        if (!takePlace(caller)) {
            registry.counter("readside.consistency.rejected").increment();
            throw new ProblemException(503, "Too many waits", maxWaits + " reads with a consistency token are "
                    + "already waiting on this instance; try again", RETRY_AFTER_SECONDS);
        }
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                freePlace(caller);
            }
        };
        long started = System.nanoTime();
        // the request's own context, where its answer goes on (and not the pool's or a worker's, that resolved it)
        Context request = Vertx.currentContext();
        Uni<ConsistencyToken> position;
        try {
            position = token.isOutbox() ? issued.resolve(token) : issued.checkIssued(token, groups).replaceWith(token);
        } catch (RuntimeException e) {
            release.run();
            throw e;
        }
        return position.flatMap(known -> known == IssuedTokens.SATISFIED ? Uni.createFrom().voidItem()
                : poll.waitFor(token, known, groups, request))
                .ifNoItem().after(maxWait).failWith(() -> {
                    registry.counter("readside.consistency.timeouts").increment();
                    return new ProblemException(503, "Not yet consistent", "The read model has not applied "
                            + Quote.of(token) + " within " + maxWait.toMillis()
                            + " ms (it is behind: see /lag); try again", RETRY_AFTER_SECONDS);
                })
                .invoke(() -> Timer.builder("readside.consistency.wait")
                        .description("How long a read with a consistency token waited for its write")
                        .register(registry).record(System.nanoTime() - started, TimeUnit.NANOSECONDS))
                .chain(() -> applied.apply(maxWait.minusNanos(System.nanoTime() - started)))
                .onTermination().invoke(release);
    }

    /**
     * One of the instance's places, if the caller holds fewer than its share; false when the instance's are taken.
     *
     * @throws ProblemException 503 when the caller already holds {@code max-waits-per-caller}
     */
    private boolean takePlace(String caller) {
        AtomicInteger mine = byCaller.compute(caller, (who, held) -> {
            AtomicInteger places = held == null ? new AtomicInteger() : held;
            places.incrementAndGet();
            return places;
        });
        if (mine.get() > maxWaitsPerCaller) {
            releaseCallers(caller);
            registry.counter("readside.consistency.rejected").increment();
            throw new ProblemException(503, "Too many waits", maxWaitsPerCaller + " reads with a consistency token "
                    + "of this caller are already waiting on this instance; try again", RETRY_AFTER_SECONDS);
        }
        if (waits.incrementAndGet() > maxWaits) {
            waits.decrementAndGet();
            releaseCallers(caller);
            return false;
        }
        return true;
    }

    private void freePlace(String caller) {
        waits.decrementAndGet();
        releaseCallers(caller);
    }

    private void releaseCallers(String caller) {
        byCaller.computeIfPresent(caller, (who, held) -> held.decrementAndGet() == 0 ? null : held);
    }

    private Map<String, String> groupsByTopic(List<String> channels) {
        Map<String, String> groups = new TreeMap<>();
        for (String channel : channels) {
            groups.put(config.getValue("mp.messaging.incoming." + channel + ".topic", String.class),
                    config.getValue("mp.messaging.incoming." + channel + ".group.id", String.class));
        }
        return groups;
    }
}
