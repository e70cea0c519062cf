package io.readside.projection.consistency;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The one poll of this instance that every consistency wait shares: every {@code readside.consistency.poll-interval}
 * while anybody waits (idle otherwise) it reads all the applied positions, and the outbox rows still awaited, in two
 * statements, and releases each waiter it satisfies on the waiter's own Vert.x context. A round whose statements do
 * not answer within {@code readside.consistency.max-wait} is given up, and the next one tries again. Used by
 * {@link ConsistencyGate}, which bounds the waits and times them out; logs under its category.
 */
@ApplicationScoped
class PositionPoll {

    private static final Logger LOG = Logger.getLogger(ConsistencyGate.class);

    /** The outbox rows the waiters still wait for, in one statement per poll. */
    static final String OUTBOX_POSITIONS = """
            SELECT id, topic, kafka_partition, kafka_offset FROM outbox WHERE id = ANY($1)""";
    /** Every applied position: a row per group, topic and partition (a few dozen rows), one statement per poll. */
    static final String POSITIONS = "SELECT consumer_group, topic, kafka_partition, next_offset FROM projection_positions";

    private static final ConsistencyToken UNPUBLISHED = ConsistencyToken.ofPosition("-", 0, -1);

    @Inject
    Pool pool;
    @Inject
    Vertx vertx;

    @ConfigProperty(name = "readside.consistency.max-wait")
    Duration maxWait;
    @ConfigProperty(name = "readside.consistency.poll-interval")
    Duration pollInterval;

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

    void start(@Observes StartupEvent start) {
        // the poll's own event-loop context (created off any Vert.x thread), not the first waiter's request context
        pollContext = vertx.getOrCreateContext();
    }

    /**
     * Joins the shared poll; completes (on {@code context}, when not null) once the read model has applied
     * {@code position}, or, while {@code position} is null, once the outbox token's row is published and applied.
     * {@code groups}: topic -> consumer group of the read model. Never fails by itself; the waiter leaves the poll
     * when it is satisfied, times out or its request goes away.
     */
    Uni<Void> waitFor(ConsistencyToken token, ConsistencyToken position, Map<String, String> groups,
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
            // on the request's own context: what follows (its queries, their route to a replica) belongs to it
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
}
