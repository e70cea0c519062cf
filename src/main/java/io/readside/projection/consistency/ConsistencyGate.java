package io.readside.projection.consistency;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.StartupEvent;
import io.readside.projection.lag.LagMonitor;
import io.readside.values.Quote;
import io.readside.web.ProblemException;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Read-your-writes: waits, bounded, until a read model has applied the write a token names. Reads the positions the
 * projectors commit with their changes, so it holds whichever instance applied the record. An {@code outbox:} token
 * first waits for the relay to publish the row (the outbox table belongs to the command side; only its
 * position columns are read here).
 * <p>
 * A wait holds no pool connection and runs no query of its own while it waits: one poll per instance
 * ({@link #poll}, every {@code readside.consistency.poll-interval} while anybody waits, idle otherwise) reads all the
 * positions, and the outbox rows still awaited, in two statements and releases every waiter it satisfies. At most
 * {@code readside.consistency.max-waits} requests wait at once; the next one is answered 503 at once.
 */
@ApplicationScoped
public class ConsistencyGate {

    private static final Logger LOG = Logger.getLogger(ConsistencyGate.class);

    static final String OUTBOX_POSITION = "SELECT topic, kafka_partition, kafka_offset FROM outbox WHERE id = $1";
    /** The outbox rows the waiters still wait for, in one statement per poll. */
    static final String OUTBOX_POSITIONS = """
            SELECT id, topic, kafka_partition, kafka_offset FROM outbox WHERE id = ANY($1)""";
    /** The highest outbox id handed out (0 before the first): a token above it was never issued. */
    static final String LAST_ISSUED = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM outbox_id_seq";
    /** Every applied position: a row per group, topic and partition (a few dozen rows), one statement per poll. */
    static final String POSITIONS = "SELECT consumer_group, topic, kafka_partition, next_offset FROM projection_positions";

    /** How long a token beyond the last measured log end waits for the broker to say whether it exists. */
    static final Duration BROKER_TIMEOUT = Duration.ofSeconds(2);
    private static final int RETRY_AFTER_SECONDS = 1;

    @Inject
    Pool pool;
    @Inject
    Vertx vertx;
    @Inject
    Config config;
    @Inject
    MeterRegistry registry;
    @Inject
    LagMonitor lag;

    @ConfigProperty(name = "readside.consistency.max-wait")
    Duration maxWait;
    @ConfigProperty(name = "readside.consistency.max-waits")
    int maxWaits;
    @ConfigProperty(name = "readside.consistency.poll-interval")
    Duration pollInterval;

    /** topic -> consumer group, per set of channels */
    private final Map<List<String>, Map<String, String>> topics = new ConcurrentHashMap<>();
    /** Requests holding one of the {@code max-waits} places, from the token's first check to the answer. */
    private final AtomicInteger waits = new AtomicInteger();
    private final Set<Waiter> waiters = ConcurrentHashMap.newKeySet();
    private volatile Context pollContext;
    /** True while a poll runs or is scheduled: there is never more than one. */
    private final AtomicBoolean polling = new AtomicBoolean();

    /** A request waiting for a position (or, while {@code position} is null, for its outbox row's publication). */
    private static final class Waiter {
        final ConsistencyToken token;
        final Map<String, String> groups;
        final UniEmitter<? super Void> emitter;
        final Context context;
        volatile ConsistencyToken position;

        Waiter(ConsistencyToken token, ConsistencyToken position, Map<String, String> groups,
                UniEmitter<? super Void> emitter, Context context) {
            this.token = token;
            this.position = position;
            this.groups = groups;
            this.emitter = emitter;
            this.context = context;
        }
    }

    /** The gauge and the counters from the start, at 0 (see ProjectionMetrics.registerMeters). */
    void metrics(@Observes StartupEvent start) {
        // the poll's own event-loop context (created off any Vert.x thread), not the first waiter's request context
        pollContext = vertx.getOrCreateContext();
        registry.gauge("readside.consistency.waits", waits);
        registry.counter("readside.consistency.rejected");
        registry.counter("readside.consistency.timeouts");
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
    public Uni<Void> await(ConsistencyToken token, List<String> channels) {
        Map<String, String> groups = topics.computeIfAbsent(channels, this::groupsByTopic);
        if (!token.isOutbox()) {
            checkApplied(token, groups);
        }
        if (waits.incrementAndGet() > maxWaits) {
            waits.decrementAndGet();
            registry.counter("readside.consistency.rejected").increment();
            throw new ProblemException(503, "Too many waits", maxWaits + " reads with a consistency token are "
                    + "already waiting on this instance; try again", RETRY_AFTER_SECONDS);
        }
        AtomicBoolean released = new AtomicBoolean();
        long started = System.nanoTime();
        // the request's own context, where its answer goes on (and not the pool's or a worker's, that resolved it)
        Context request = Vertx.currentContext();
        Uni<ConsistencyToken> position;
        try {
            position = token.isOutbox() ? resolve(token) : checkIssued(token, groups).replaceWith(token);
        } catch (RuntimeException e) {
            waits.decrementAndGet();
            throw e;
        }
        return position.flatMap(known -> known == SATISFIED ? Uni.createFrom().voidItem()
                : waitFor(token, known, groups, request))
                .ifNoItem().after(maxWait).failWith(() -> {
                    registry.counter("readside.consistency.timeouts").increment();
                    return new ProblemException(503, "Not yet consistent", "The read model has not applied "
                            + Quote.of(token) + " within " + maxWait.toMillis()
                            + " ms (it is behind: see /lag); try again", RETRY_AFTER_SECONDS);
                })
                .invoke(() -> Timer.builder("readside.consistency.wait")
                        .description("How long a read with a consistency token waited for its write")
                        .register(registry).record(System.nanoTime() - started, TimeUnit.NANOSECONDS))
                .onTermination().invoke(() -> {
                    if (released.compareAndSet(false, true)) {
                        waits.decrementAndGet();
                    }
                });
    }

    /** Joins the shared poll; the waiter leaves it when it is satisfied, times out or its request goes away. */
    private Uni<Void> waitFor(ConsistencyToken token, ConsistencyToken position, Map<String, String> groups,
            Context context) {
        return Uni.createFrom().<Void> emitter(emitter -> {
            Waiter waiter = new Waiter(token, position, groups, emitter, context);
            AtomicBoolean ended = new AtomicBoolean();
            emitter.onTermination(() -> {
                ended.set(true);
                waiters.remove(waiter);
            });
            waiters.add(waiter);
            if (ended.get()) { // timed out while it was being registered
                waiters.remove(waiter);
                return;
            }
            startPolling(1);
        });
    }

    private void startPolling(long delayMillis) {
        if (polling.compareAndSet(false, true)) {
            Context context = pollContext;
            if (context == null) {
                vertx.setTimer(Math.max(1, delayMillis), id -> poll());
            } else {
                context.runOnContext(v -> vertx.setTimer(Math.max(1, delayMillis), id -> poll()));
            }
        }
    }

    /** One round for every waiter of this instance: at most two statements, whatever the number of waiters. */
    private void poll() {
        try {
            round();
        } catch (RuntimeException e) { // never leave the polling flag set with nobody polling
            LOG.debugf(e, "a consistency poll round failed; trying again");
            next();
        }
    }

    private void round() {
        if (waiters.isEmpty()) {
            polling.set(false);
            if (!waiters.isEmpty()) { // a waiter arrived between the check and the reset
                startPolling(1);
            }
            return;
        }
        Long[] unpublished = waiters.stream().filter(w -> w.position == null).map(w -> w.token.outboxId())
                .distinct().toArray(Long[]::new);
        Uni<Map<Long, ConsistencyToken>> published = unpublished.length == 0 ? Uni.createFrom().item(Map.of())
                : pool.preparedQuery(OUTBOX_POSITIONS).execute(Tuple.of(unpublished)).map(rows -> {
                    Map<Long, ConsistencyToken> byId = new HashMap<>();
                    for (Row row : rows) {
                        Long offset = row.getLong("kafka_offset");
                        byId.put(row.getLong("id"), offset == null ? UNPUBLISHED
                                : ConsistencyToken.ofPosition(row.getString("topic"),
                                        row.getInteger("kafka_partition"), offset));
                    }
                    return byId;
                });
        published.flatMap(outbox -> pool.query(POSITIONS).execute().map(rows -> {
            Map<String, Long> applied = new HashMap<>();
            for (Row row : rows) {
                applied.put(key(row.getString("consumer_group"), row.getString("topic"),
                        row.getInteger("kafka_partition")), row.getLong("next_offset"));
            }
            release(Set.of(unpublished), outbox, applied);
            return rows.size();
        })).ifNoItem().after(maxWait).fail() // a hung query must not hold the poll (and every wait) with it
                .subscribe().with(x -> next(), e -> {
            LOG.debugf(e, "could not read the positions for %d consistency waits; trying again", waiters.size());
            next();
        });
    }

    private void next() {
        polling.set(false);
        if (!waiters.isEmpty()) {
            startPolling(pollInterval.toMillis());
        }
    }

    /**
     * Releases the waiters this round's answers satisfy. {@code asked} are the outbox ids the round looked up: a waiter
     * that joined while the round ran was not asked about, and its row's absence from {@code outbox} means nothing.
     */
    private void release(Set<Long> asked, Map<Long, ConsistencyToken> outbox, Map<String, Long> applied) {
        for (Waiter waiter : waiters) {
            if (waiter.position == null) {
                if (!asked.contains(waiter.token.outboxId())) {
                    continue; // joined after this round's question: the next round asks
                }
                ConsistencyToken row = outbox.get(waiter.token.outboxId());
                if (row == null) { // seen at the start, gone now: published and deleted after the retention
                    complete(waiter);
                    continue;
                }
                if (row == UNPUBLISHED) {
                    continue;
                }
                waiter.position = row; // once published, the position is final
            }
            ConsistencyToken position = waiter.position;
            String group = waiter.groups.get(position.topic());
            if (group == null) { // an outbox row of a topic this read model does not apply: nothing to wait for
                complete(waiter);
                continue;
            }
            Long next = applied.get(key(group, position.topic(), position.partition()));
            if (next != null && next > position.offset()) {
                complete(waiter);
            }
        }
    }

    private void complete(Waiter waiter) {
        if (waiters.remove(waiter)) {
            // on the request's own context: what follows (a Hibernate Reactive session) belongs to it
            if (waiter.context != null) {
                waiter.context.runOnContext(v -> waiter.emitter.complete(null));
            } else {
                waiter.emitter.complete(null);
            }
        }
    }

    private static String key(String group, String topic, int partition) {
        return group + '\u0000' + topic + '\u0000' + partition;
    }

    private static final ConsistencyToken SATISFIED = ConsistencyToken.ofPosition("-", 0, 0);
    private static final ConsistencyToken UNPUBLISHED = ConsistencyToken.ofPosition("-", 0, -1);

    /**
     * An outbox token's position, read once: null while its row is unpublished; SATISFIED when the row is past
     * retention; 400 when the id was never handed out.
     */
    private Uni<ConsistencyToken> resolve(ConsistencyToken token) {
        return pool.preparedQuery(OUTBOX_POSITION).execute(Tuple.of(token.outboxId())).flatMap(rows -> {
            if (rows.size() == 1) {
                Row row = rows.iterator().next();
                Long offset = row.getLong("kafka_offset");
                return Uni.createFrom().item(offset == null ? null
                        : ConsistencyToken.ofPosition(row.getString("topic"), row.getInteger("kafka_partition"),
                                offset));
            }
            return pool.query(LAST_ISSUED).execute().map(issued -> {
                if (token.outboxId() > issued.iterator().next().getLong(0)) {
                    throw ProblemException.badRequest("consistency token " + Quote.of(token) + " was never issued");
                }
                return SATISFIED; // published and deleted after the outbox retention: applied long ago
            });
        });
    }

    /**
     * A position token must name a topic this read model applies, a partition of it, and an offset below the
     * partition's log end: anything else was never issued and would only wait out {@code max-wait}. The last lag
     * measurement answers most; a token beyond it (a record produced since) is checked with the broker once. When
     * the broker cannot be asked, the token is waited for as any other (bounded), rather than refused falsely.
     */
    private Uni<Void> checkIssued(ConsistencyToken position, Map<String, String> groups) {
        checkApplied(position, groups);
        OptionalLong measured = lag.measuredEndOffset(position.topic(), position.partition());
        if (measured.isPresent() && position.offset() < measured.getAsLong()) {
            return Uni.createFrom().voidItem();
        }
        return lag.askLogEnd(position.topic(), position.partition(), BROKER_TIMEOUT)
                .onFailure().recoverWithItem(e -> {
                    LOG.debugf(e, "cannot check consistency token %s with the broker; waiting for it", position);
                    return null;
                })
                .invoke(end -> {
                    if (end == null) {
                        return;
                    }
                    if (!end.exists()) {
                        throw ProblemException.badRequest("consistency token " + Quote.of(position) + " was never "
                                + "issued: topic " + Quote.of(position.topic()) + " has " + end.partitions()
                                + " partitions, numbered from 0");
                    }
                    if (position.offset() >= end.endOffset()) {
                        throw ProblemException.badRequest("consistency token " + Quote.of(position) + " was never "
                                + "issued: partition " + position.partition() + " of " + Quote.of(position.topic())
                                + " ends before offset " + end.endOffset());
                    }
                })
                .replaceWithVoid();
    }

    private static void checkApplied(ConsistencyToken position, Map<String, String> groups) {
        if (!groups.containsKey(position.topic())) {
            throw ProblemException.badRequest("consistency token " + Quote.of(position) + " names topic "
                    + Quote.of(position.topic()) + ", which this read model does not apply (it applies "
                    + groups.keySet() + ")");
        }
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
