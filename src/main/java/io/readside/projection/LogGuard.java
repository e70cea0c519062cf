package io.readside.projection;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
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
 * the log). On a mismatch the topic is <b>fenced</b>: its projectors apply nothing (their records wait,
 * unacknowledged), readiness is DOWN with the reason, an ERROR is logged, {@code readside_log_mismatch{topic}} is 1,
 * and the status page says so, until an operator accepts the new log ({@code POST
 * /admin/topics/{topic}/accept-new-log}: {@link #accept}).
 *
 * <p>Checked when partitions are assigned ({@link PositionSeeker}, before any record of the assignment is applied)
 * and at every lag measurement.
 */
@ApplicationScoped
public class LogGuard {

    private static final Logger LOG = Logger.getLogger(LogGuard.class);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

    static final String IDENTITY = "SELECT topic_id, cluster_id FROM log_identities WHERE topic = $1";
    static final String RECORD_IDENTITY = """
            INSERT INTO log_identities (topic, topic_id, cluster_id) VALUES ($1, $2, $3)
            ON CONFLICT (topic) DO NOTHING""";
    static final String POSITIONS = """
            SELECT consumer_group, kafka_partition, next_offset FROM projection_positions WHERE topic = $1""";
    static final String FORGET_POSITIONS = "DELETE FROM projection_positions WHERE topic = $1";
    static final String FORGET_IDENTITY = "DELETE FROM log_identities WHERE topic = $1";

    /** The topic's log is not the one its positions came from; nothing of it is applied until accepted. */
    public static final class LogMismatchException extends RuntimeException {
        LogMismatchException(String topic, String reason) {
            super("topic " + topic + " is fenced: " + reason + "; accept the new log with POST /admin/topics/"
                    + topic + "/accept-new-log", null, false, false);
        }
    }

    /** Why a topic is fenced, and since when. */
    public record Mismatch(String topic, String reason, Instant since) {
    }

    @Inject
    Pool pool;
    @Inject
    MeterRegistry registry;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    private final Map<String, Mismatch> fenced = new ConcurrentHashMap<>();
    private final Map<String, Boolean> gauges = new ConcurrentHashMap<>();
    private Admin admin;

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

    /**
     * Before records below the stored position are taken for redeliveries (and acknowledged without being applied):
     * asks the broker, now, whether this is still the log the positions came from ({@link #verify}, on a worker
     * thread), and fails with {@link LogMismatchException} if not. A recreated topic's first records look exactly
     * like redeliveries, and may arrive before any rebalance or lag measurement noticed the new log.
     */
    public Uni<Void> confirm(String topic) {
        return Uni.createFrom().item(() -> {
            verify(topic);
            check(topic);
            return (Void) null;
        }).runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    /** The fenced topics (empty: every log is the one its positions came from). */
    public Map<String, Mismatch> mismatches() {
        return new TreeMap<>(fenced);
    }

    /**
     * Compares the topic's log with what its positions were stored for; blocks (the lag monitor's thread, or a
     * consumer's polling thread in a rebalance). A broker or database that does not answer decides nothing.
     */
    public void verify(String topic) {
        try {
            // positions first, the log second: a position read before the log end offset can never exceed it
            // legitimately (positions and log ends only grow), while one read after may have passed a stale end
            RowSet<Row> stored = pool.preparedQuery(IDENTITY).execute(Tuple.of(topic)).await().atMost(CALL_TIMEOUT);
            RowSet<Row> positions = pool.preparedQuery(POSITIONS).execute(Tuple.of(topic)).await()
                    .atMost(CALL_TIMEOUT);
            Admin client = admin();
            TopicDescription description = client.describeTopics(List.of(topic)).allTopicNames()
                    .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(topic);
            String clusterId = client.describeCluster().clusterId().get(CALL_TIMEOUT.toMillis(),
                    TimeUnit.MILLISECONDS);
            String topicId = description.topicId().toString();
            Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
            description.partitions().forEach(p -> latest.put(new TopicPartition(topic, p.partition()),
                    OffsetSpec.latest()));
            Map<Integer, Long> logEnds = new TreeMap<>();
            client.listOffsets(latest).all().get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .forEach((partition, info) -> logEnds.put(partition.partition(), info.offset()));
            compare(topic, topicId, clusterId, logEnds, stored, positions);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException) {
                return; // deleted, not yet created again: nothing is delivered meanwhile
            }
            LOG.debugf("could not verify the log of %s: %s", topic, e.getCause());
        } catch (java.util.concurrent.TimeoutException | RuntimeException e) {
            LOG.debugf("could not verify the log of %s: %s", topic, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void compare(String topic, String topicId, String clusterId, Map<Integer, Long> logEnds,
            RowSet<Row> stored, RowSet<Row> positions) {
        String reason = null;
        if (stored.size() == 0) {
            // first sight (a new deployment, or the first start of this version): these positions belong to this log
            // unless one of them is already beyond its end
            pool.preparedQuery(RECORD_IDENTITY).execute(Tuple.of(topic, topicId, clusterId)).await()
                    .atMost(CALL_TIMEOUT);
        } else {
            Row identity = stored.iterator().next();
            if (!identity.getString("cluster_id").equals(clusterId)) {
                reason = "the positions were stored for cluster " + identity.getString("cluster_id")
                        + ", the broker belongs to cluster " + clusterId + " (failed over or restored elsewhere?)";
            } else if (!identity.getString("topic_id").equals(topicId)) {
                reason = "the topic was deleted and created again: its topic id is " + topicId
                        + ", the positions were stored for " + identity.getString("topic_id");
            }
        }
        if (reason == null) {
            for (Row position : positions) {
                Long end = logEnds.get(position.getInteger("kafka_partition"));
                long next = position.getLong("next_offset");
                if (end == null || next > end) {
                    reason = "partition " + position.getInteger("kafka_partition") + " ends at offset "
                            + (end == null ? "(no such partition)" : end) + " but group "
                            + position.getString("consumer_group") + " stored position " + next
                            + " (positions restored from a backup ahead of the log, or a log that lost records?)";
                    break;
                }
            }
        }
        if (reason != null) {
            fence(topic, reason);
        }
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
     * Accepts the topic's current log: forgets its positions (every group) and its recorded identity, and lifts the
     * fence. The projectors then apply the log from where their consumers are (from its start, for a recreated
     * topic); a record already in the read model changes nothing again (the same version of an entity).
     *
     * @return the positions forgotten
     */
    public Uni<Integer> accept(String topic) {
        return pool.withTransaction(conn -> conn.preparedQuery(FORGET_IDENTITY).execute(Tuple.of(topic))
                .chain(() -> conn.preparedQuery(FORGET_POSITIONS).execute(Tuple.of(topic))))
                .map(RowSet::rowCount)
                .invoke(forgotten -> {
                    Mismatch lifted = fenced.remove(topic);
                    LOG.warnf("the new log of topic %s was accepted by an operator: %d positions forgotten%s", topic,
                            forgotten, lifted == null ? "" : " (was fenced: " + lifted.reason() + ")");
                });
    }

    private void gauge(String topic) {
        if (gauges.putIfAbsent(topic, Boolean.TRUE) == null) {
            Gauge.builder("readside.log.mismatch", fenced, f -> f.containsKey(topic) ? 1 : 0).tag("topic", topic)
                    .description("1 while the topic's log is not the one its stored positions came from")
                    .register(registry);
        }
    }

    private synchronized Admin admin() {
        if (admin == null) {
            admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) CALL_TIMEOUT.toMillis(),
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) CALL_TIMEOUT.toMillis(),
                    AdminClientConfig.CLIENT_ID_CONFIG, "readside-log-guard"));
        }
        return admin;
    }

    @PreDestroy
    synchronized void close() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(2));
        }
    }
}
