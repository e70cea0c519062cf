package io.readside.projection;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Ties the stored positions of a topic to the log they came from, so that no record is ever counted as seen that was
 * not applied. A topic deleted and created again, restored, or failed over to another cluster starts its offsets
 * anew: its records would all look like redeliveries (below the stored positions) and be dropped. So the guard
 * compares Kafka's topic id and cluster id with those recorded with the positions (table {@code log_identities}),
 * and each partition's log end offset with its stored position (positions restored from a backup may be ahead of
 * the log). On a mismatch the topic is <b>fenced</b>, for every instance (the reason is kept in
 * {@code log_identities.fenced_reason}): its projectors apply nothing (their records wait, unacknowledged),
 * readiness is DOWN with the reason, an ERROR is logged, {@code readside_log_mismatch{topic}} is 1, and the status
 * page says so, until an operator accepts the new log ({@code POST /admin/topics/{topic}/accept-new-log}:
 * {@link #accept}).
 *
 * <p>Checked when partitions are assigned ({@link PositionSeeker}, before any record of the assignment is applied),
 * at every lag measurement, and before records below the stored position are acknowledged as redeliveries
 * ({@link #confirm}). Only topics consumed from Kafka are guarded (not the in-memory channels of the fast test
 * tier).
 *
 * <p>The broker is asked by {@link TopicLogs}; whether its answer matches the stored identity and positions is
 * {@link ObservedLog#mismatchWith}'s to say; this class keeps the fences (here and in {@code log_identities}).
 */
@ApplicationScoped
public class LogGuard {

    private static final Logger LOG = Logger.getLogger(LogGuard.class);
    /** Each broker call of a check; a check that cannot finish decides nothing (UNKNOWN). */
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(3);

    static final String IDENTITY = """
            SELECT topic_id, cluster_id, fenced_reason FROM log_identities WHERE topic = $1""";
    static final String RECORD_IDENTITY = """
            INSERT INTO log_identities (topic, topic_id, cluster_id) VALUES ($1, $2, $3)
            ON CONFLICT (topic) DO NOTHING""";
    /** The first instance to see the mismatch records why; the reason then holds for all, until accepted. */
    static final String FENCE = """
            UPDATE log_identities SET fenced_reason = $2, fenced_at = now()
             WHERE topic = $1 AND fenced_reason IS NULL""";
    static final String POSITIONS = """
            SELECT consumer_group, kafka_partition, next_offset FROM projection_positions WHERE topic = $1""";
    /** Not while a rebuild runs (on any instance): it compares its shadow with the live positions. */
    static final String NO_REBUILD = "SELECT pg_try_advisory_xact_lock($1)";
    /** Accepting: only a fenced topic, and its positions with it, in one transaction. */
    static final String ACCEPT = """
            DELETE FROM log_identities WHERE topic = $1 AND fenced_reason IS NOT NULL""";
    static final String FORGET_POSITIONS = "DELETE FROM projection_positions WHERE topic = $1";

    /** The topic's log is not the one its positions came from; nothing of it is applied until accepted. */
    public static final class LogMismatchException extends RuntimeException {
        LogMismatchException(String topic, String reason) {
            super("topic " + topic + " is fenced: " + reason + "; accept the new log with POST /admin/topics/"
                    + topic + "/accept-new-log", null, false, false);
        }
    }

    /** The log could not be checked (broker or database unavailable); the records wait and are tried again. */
    public static final class LogUnverifiedException extends RuntimeException {
        LogUnverifiedException(String topic) {
            super("the log of topic " + topic + " could not be checked; tried again", null, false, false);
        }
    }

    /** Why a topic is fenced, and since when. */
    public record Mismatch(String topic, String reason, Instant since) {
    }

    /** What a check found. */
    public enum Verdict {
        SAME, MISMATCH, UNKNOWN
    }

    @Inject
    Pool pool;
    @Inject
    MeterRegistry registry;
    @Inject
    Config config;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    private final Map<String, Mismatch> fenced = new ConcurrentHashMap<>();
    private final Map<String, Boolean> gauges = new ConcurrentHashMap<>();
    private volatile Set<String> guarded;
    private volatile TopicLogs logs;

    /** Where {@link #confirm} asks: threads of its own, so that a slow broker ties up no request's worker. */
    private final ExecutorService confirming = Executors.newFixedThreadPool(2, runnable -> {
        Thread thread = new Thread(runnable, "readside-log-guard");
        thread.setDaemon(true);
        return thread;
    });

    @PostConstruct
    void init() {
        logs = new TopicLogs(bootstrapServers, CALL_TIMEOUT);
    }

    /** Where the broker is asked from now on (a test's observer of the calls); returns where it was asked before. */
    TopicLogs askThrough(TopicLogs replacement) {
        TopicLogs before = logs;
        logs = replacement;
        return before;
    }

    /**
     * Fails with {@link LogMismatchException} when the topic is fenced. Projectors call it before they apply,
     * set aside or count anything of a record.
     */
    public void check(String topic) {
        Mismatch mismatch = fenced.get(topic);
        if (mismatch != null) {
            throw new LogMismatchException(topic, mismatch.reason());
        }
    }

    /** Whether the topic is fenced (on this instance's latest check). */
    public boolean isFenced(String topic) {
        return fenced.containsKey(topic);
    }

    /**
     * Before records below the stored position are taken for redeliveries (and acknowledged without being applied):
     * asks the broker, now, whether this is still the log the positions came from ({@link #verify}, on one of the
     * guard's two threads). Fails with {@link LogMismatchException} if not, and with {@link LogUnverifiedException} when it
     * cannot tell (the records wait and are tried again). A recreated topic's first records look exactly like
     * redeliveries, and may arrive before any rebalance or lag measurement noticed the new log.
     */
    public Uni<Void> confirm(String topic) {
        if (!guarded().contains(topic)) {
            return Uni.createFrom().voidItem();
        }
        return Uni.createFrom().item(() -> {
            requireSame(topic);
            return (Void) null;
        }).runSubscriptionOn(confirming);
    }

    /**
     * Asks now ({@link #verify}; blocks) whether the topic's log is the one its positions came from, before an
     * operation judges records by those positions (a redrive). A fence recorded by any instance counts, not only this
     * one's: fails with {@link LogMismatchException} then, and with {@link LogUnverifiedException} when it cannot tell.
     */
    public void requireSame(String topic) {
        Verdict verdict = verify(topic);
        check(topic);
        if (verdict == Verdict.UNKNOWN) {
            throw new LogUnverifiedException(topic);
        }
    }

    /** The fenced topics (empty: every log is the one its positions came from). */
    public Map<String, Mismatch> mismatches() {
        return new TreeMap<>(fenced);
    }

    /**
     * Compares the topic's log with what its positions were stored for, and fences or lifts the fence accordingly;
     * blocks (the lag monitor's thread, a consumer's polling thread in a rebalance, or the guard's own). A broker or
     * database that does not answer decides nothing ({@link Verdict#UNKNOWN}).
     */
    public Verdict verify(String topic) {
        if (!guarded().contains(topic)) {
            return Verdict.SAME;
        }
        gauge(topic); // at 0 from the first check, so that an alert sees it change
        try {
            // positions first, the log second: a position read before the log end offset can never exceed it
            // legitimately (positions and log ends only grow), while one read after may have passed a stale end
            RowSet<Row> stored = pool.preparedQuery(IDENTITY).execute(Tuple.of(topic)).await().atMost(CALL_TIMEOUT);
            RowSet<Row> positions = pool.preparedQuery(POSITIONS).execute(Tuple.of(topic)).await()
                    .atMost(CALL_TIMEOUT);
            ObservedLog log = logs.describe(topic);
            return compare(topic, log, stored, positions);
        } catch (ExecutionException e) {
            LOG.debugf("could not verify the log of %s: %s", topic, e.getCause());
        } catch (TimeoutException | RuntimeException e) {
            LOG.debugf("could not verify the log of %s: %s", topic, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Verdict.UNKNOWN;
    }

    private Verdict compare(String topic, ObservedLog log, RowSet<Row> stored, RowSet<Row> positions) {
        if (stored.size() == 0) {
            // first sight (a new deployment, the first start of this version, or a log just accepted): these
            // positions belong to this log unless one of them is beyond its end
            pool.preparedQuery(RECORD_IDENTITY).execute(Tuple.of(topic, log.topicId(), log.clusterId())).await()
                    .atMost(CALL_TIMEOUT);
        }
        String reason = log.mismatchWith(stored.size() == 0 ? null : stored.iterator().next(), positions);
        if (reason != null) {
            // recorded for every instance, and kept when the log later grows past the positions: the records in
            // between were never applied
            pool.preparedQuery(FENCE).execute(Tuple.of(topic, reason)).await().atMost(CALL_TIMEOUT);
            fence(topic, reason);
            return Verdict.MISMATCH;
        }
        Mismatch lifted = fenced.remove(topic);
        if (lifted != null) {
            LOG.warnf("topic %s is no longer fenced: its new log was accepted", topic);
        }
        return Verdict.SAME;
    }

    private void fence(String topic, String reason) {
        Mismatch before = fenced.putIfAbsent(topic, new Mismatch(topic, reason, Instant.now()));
        gauge(topic);
        if (before == null) {
            LOG.errorf("topic %s is fenced, nothing of it is applied: %s. Accept the new log with POST "
                    + "/admin/topics/%s/accept-new-log (positions reset; rebuild the read models if the new log "
                    + "replaces the old history)", topic, reason, topic);
        }
    }

    /**
     * Accepts the topic's current log, if it is fenced: in one transaction, forgets its recorded identity and its
     * positions (every group); every instance's next check finds the log as first seen and lifts its fence. The
     * projectors then apply the new log from where their consumers are (from its start, for a recreated topic); a
     * record already in the read model changes nothing again (the same version of an entity).
     *
     * @return the positions forgotten; empty when the topic was not fenced (nothing to accept)
     * @throws IllegalStateException when a rebuild is running
     */
    public Uni<Optional<Integer>> accept(String topic) {
        return pool.withTransaction(conn -> conn.preparedQuery(NO_REBUILD).execute(Tuple.of(AdvisoryLocks.REBUILD))
                .invoke(free -> {
                    if (!free.iterator().next().getBoolean(0)) {
                        throw new IllegalStateException("a rebuild is running; accept the new log once it ended");
                    }
                })
                .chain(() -> conn.preparedQuery(ACCEPT).execute(Tuple.of(topic)))
                .flatMap(accepted -> accepted.rowCount() == 0 ? Uni.createFrom().item(Optional.<Integer> empty())
                        : conn.preparedQuery(FORGET_POSITIONS).execute(Tuple.of(topic))
                                .map(forgotten -> Optional.of(forgotten.rowCount()))))
                .invoke(forgotten -> forgotten.ifPresent(count -> {
                    Mismatch lifted = fenced.remove(topic);
                    LOG.warnf("the new log of topic %s was accepted by an operator: %d positions forgotten%s", topic,
                            count, lifted == null ? "" : " (was fenced: " + lifted.reason() + ")");
                }));
    }

    /** Topics consumed from Kafka by a projecting channel (the in-memory channels of the fast test tier are not). */
    private Set<String> guarded() {
        Set<String> topics = guarded;
        if (topics == null) {
            guarded = topics = ProjectedChannels.of(config).stream().map(ProjectedChannels.Consumed::topic)
                    .collect(java.util.stream.Collectors.toUnmodifiableSet());
        }
        return topics;
    }

    private void gauge(String topic) {
        if (gauges.putIfAbsent(topic, Boolean.TRUE) == null) {
            Gauge.builder("readside.log.mismatch", fenced, f -> f.containsKey(topic) ? 1 : 0).tag("topic", topic)
                    .description("1 while the topic's log is not the one its stored positions came from")
                    .register(registry);
        }
    }

    @PreDestroy
    void close() {
        confirming.shutdownNow();
        logs.close();
    }
}
