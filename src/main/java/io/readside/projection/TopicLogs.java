package io.readside.projection;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;

/**
 * Asks the broker what a topic's log is now ({@link ObservedLog}), through one Admin client
 * ({@code readside-log-guard}, created on first use), each call within {@code callTimeout}. Thread-safe; blocks.
 * Owned and closed by {@link LogGuard}.
 */
class TopicLogs {

    private final Duration callTimeout;
    private final BrokerAdmin admin;

    TopicLogs(String bootstrapServers, Duration callTimeout) {
        this.callTimeout = callTimeout;
        this.admin = new BrokerAdmin(bootstrapServers, "readside-log-guard", callTimeout);
    }

    /**
     * The topic's id, the cluster's id and each partition's log end offset.
     *
     * @throws ExecutionException when a call failed (for instance, no such topic)
     * @throws TimeoutException when a call did not answer within the time-out
     */
    ObservedLog describe(String topic) throws ExecutionException, TimeoutException, InterruptedException {
        Admin client = admin.get();
        TopicDescription description = client.describeTopics(List.of(topic)).allTopicNames()
                .get(callTimeout.toMillis(), TimeUnit.MILLISECONDS).get(topic);
        String clusterId = client.describeCluster().clusterId().get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
        String topicId = description.topicId().toString();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        description.partitions().forEach(p -> latest.put(new TopicPartition(topic, p.partition()),
                OffsetSpec.latest()));
        Map<Integer, Long> logEnds = new TreeMap<>();
        client.listOffsets(latest).all().get(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .forEach((partition, info) -> logEnds.put(partition.partition(), info.offset()));
        return new ObservedLog(topicId, clusterId, logEnds);
    }

    /** Closes the Admin client, if one was created (waits up to 2 s). */
    void close() {
        admin.close();
    }
}
