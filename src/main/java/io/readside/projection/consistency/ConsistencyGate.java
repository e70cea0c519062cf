package io.readside.projection.consistency;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.readside.projection.lag.LagMonitor;
import io.readside.values.Quote;
import io.readside.web.ProblemException;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Read-your-writes: waits, bounded, until a read model has applied the write a token names. Reads the positions the
 * projectors commit with their changes, so it holds whichever instance applied the record. An {@code outbox:} token
 * first waits for the relay to publish the row (the outbox table belongs to the command side; only its
 * position columns are read here).
 */
@ApplicationScoped
public class ConsistencyGate {

    private static final Logger LOG = Logger.getLogger(ConsistencyGate.class);

    static final String OUTBOX_POSITION = "SELECT topic, kafka_partition, kafka_offset FROM outbox WHERE id = $1";
    /** The highest outbox id handed out (0 before the first): a token above it was never issued. */
    static final String LAST_ISSUED = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM outbox_id_seq";
    static final String APPLIED = """
            SELECT next_offset > $4 FROM projection_positions
             WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3""";

    private static final Duration FIRST_PAUSE = Duration.ofMillis(2);
    private static final Duration LONGEST_PAUSE = Duration.ofMillis(25);
    /** How long a token beyond the last measured log end waits for the broker to say whether it exists. */
    static final Duration BROKER_TIMEOUT = Duration.ofSeconds(2);

    @Inject
    Pool pool;
    @Inject
    Config config;
    @Inject
    MeterRegistry registry;
    @Inject
    LagMonitor lag;

    @ConfigProperty(name = "readside.consistency.max-wait")
    Duration maxWait;

    /** topic -> consumer group, per set of channels */
    private final Map<List<String>, Map<String, String>> topics = new ConcurrentHashMap<>();

    /**
     * Completes once every channel's read model reading the token's topic has applied it; fails with 503 (and a
     * Retry-After) past {@code readside.consistency.max-wait}, with 400 at once for a token this read model cannot
     * honour or that was never issued.
     */
    public Uni<Void> await(ConsistencyToken token, List<String> channels) {
        Map<String, String> groups = topics.computeIfAbsent(channels, this::groupsByTopic);
        long started = System.nanoTime();
        long deadline = started + maxWait.toNanos();
        Uni<Void> issued = token.isOutbox() ? Uni.createFrom().voidItem() : checkIssued(token, groups);
        return issued.flatMap(x -> awaitFrom(token, groups, deadline, FIRST_PAUSE))
                .invoke(() -> Timer.builder("readside.consistency.wait")
                        .description("How long a read with a consistency token waited for its write")
                        .register(registry).record(System.nanoTime() - started, TimeUnit.NANOSECONDS));
    }

    private Uni<Void> awaitFrom(ConsistencyToken token, Map<String, String> groups, long deadline, Duration pause) {
        return resolve(token).flatMap(position -> {
            if (position == SATISFIED) {
                return Uni.createFrom().voidItem();
            }
            Uni<Boolean> applied = position == null ? Uni.createFrom().item(false) : applied(position, groups);
            return applied.flatMap(done -> {
                if (done) {
                    return Uni.createFrom().voidItem();
                }
                if (System.nanoTime() + pause.toNanos() > deadline) {
                    registry.counter("readside.consistency.timeouts").increment();
                    throw new ProblemException(503, "Not yet consistent", "The read model has not applied "
                            + Quote.of(token) + " within " + maxWait.toMillis()
                            + " ms (it is behind: see /lag); try again", 1);
                }
                Duration next = pause.multipliedBy(2).compareTo(LONGEST_PAUSE) > 0 ? LONGEST_PAUSE
                        : pause.multipliedBy(2);
                // once published, the position is final: no need to look the outbox row up again
                ConsistencyToken known = position == null ? token : position;
                return Uni.createFrom().voidItem().onItem().delayIt().by(pause)
                        .flatMap(x -> awaitFrom(known, groups, deadline, next));
            });
        });
    }

    private static final ConsistencyToken SATISFIED = ConsistencyToken.ofPosition("-", 0, 0);

    /** The token's position; null while its outbox row is unpublished; SATISFIED when the row is past retention. */
    private Uni<ConsistencyToken> resolve(ConsistencyToken token) {
        if (!token.isOutbox()) {
            return Uni.createFrom().item(token);
        }
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

    private Uni<Boolean> applied(ConsistencyToken position, Map<String, String> groups) {
        checkApplied(position, groups);
        String group = groups.get(position.topic());
        return pool.preparedQuery(APPLIED)
                .execute(Tuple.of(group, position.topic(), position.partition(), position.offset()))
                .map(rows -> rows.size() == 1 && rows.iterator().next().getBoolean(0));
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
