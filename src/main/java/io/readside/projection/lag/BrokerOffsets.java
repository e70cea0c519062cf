package io.readside.projection.lag;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import io.readside.projection.BrokerAdmin;
import io.readside.projection.lag.LagMonitor.LogEnd;

/**
 * What the broker says of the consumed logs, through one Admin client ({@code readside-lag-monitor}, created on first
 * use, every call bounded by {@link LagMonitor#CALL_TIMEOUT} unless given its own time-out): each partition's log
 * start offset and last stable offset for a measurement, and one partition's log end for a question. Thread-safe;
 * owned and closed by {@link LagMonitor}.
 */
final class BrokerOffsets {

    /** The consumed topics that exist, and each partition's log start offset and LSO. */
    record LogOffsets(List<String> topics, Map<TopicPartition, ListOffsetsResultInfo> ends,
            Map<TopicPartition, ListOffsetsResultInfo> starts) {
    }

    /** One Admin client for the measurements and the questions. */
    private final BrokerAdmin admin;

    BrokerOffsets(String bootstrapServers) {
        this.admin = new BrokerAdmin(bootstrapServers, "readside-lag-monitor", LagMonitor.CALL_TIMEOUT);
    }

    /**
     * The log start offsets and LSOs (read_committed: records of an open transaction are not applicable until it
     * commits) of every partition of those {@code topics} that exist.
     *
     * @throws ExecutionException when a broker call failed
     * @throws TimeoutException when a broker call did not answer within 10 s
     */
    LogOffsets logOffsets(List<String> consumedTopics) throws InterruptedException, ExecutionException,
            TimeoutException {
        Duration timeout = LagMonitor.CALL_TIMEOUT;
        Admin client = admin.get();
        Set<String> existing = client.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        List<String> topics = consumedTopics.stream().filter(existing::contains).distinct().toList();
        Map<TopicPartition, OffsetSpec> latestSpec = new HashMap<>();
        Map<TopicPartition, OffsetSpec> earliestSpec = new HashMap<>();
        if (!topics.isEmpty()) {
            for (TopicDescription topic : client.describeTopics(topics).allTopicNames()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS).values()) {
                topic.partitions().forEach(p -> {
                    latestSpec.put(new TopicPartition(topic.name(), p.partition()), OffsetSpec.latest());
                    earliestSpec.put(new TopicPartition(topic.name(), p.partition()), OffsetSpec.earliest());
                });
            }
        }
        // the LSO: records of an open transaction are not applicable until it commits
        Map<TopicPartition, ListOffsetsResultInfo> ends = latestSpec.isEmpty() ? Map.of()
                : client.listOffsets(latestSpec, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
                        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Map<TopicPartition, ListOffsetsResultInfo> starts = earliestSpec.isEmpty() ? Map.of()
                : client.listOffsets(earliestSpec).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        return new LogOffsets(topics, ends, starts);
    }

    /**
     * A partition's log end offset, now, each broker call within {@code timeout}; a topic that does not exist has no
     * partitions. Blocks.
     *
     * @throws IllegalStateException when the broker could not be asked or did not answer in time
     */
    LogEnd logEnd(String topic, int partition, Duration timeout) {
        int millis = (int) timeout.toMillis();
        try {
            TopicDescription description = admin.get().describeTopics(List.of(topic),
                    new DescribeTopicsOptions().timeoutMs(millis)).allTopicNames()
                    .get(millis, TimeUnit.MILLISECONDS).get(topic);
            int partitions = description.partitions().size();
            if (description.partitions().stream().noneMatch(p -> p.partition() == partition)) {
                return new LogEnd(topic, partitions, partition, false, 0);
            }
            TopicPartition tp = new TopicPartition(topic, partition);
            long end = admin.get().listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions().timeoutMs(millis))
                    .partitionResult(tp).get(millis, TimeUnit.MILLISECONDS).offset();
            return new LogEnd(topic, partitions, partition, true, end);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return new LogEnd(topic, 0, partition, false, 0);
            }
            throw new IllegalStateException("the broker could not say where " + topic + "-" + partition + " ends",
                    e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("the broker did not say within " + timeout + " where " + topic + "-"
                    + partition + " ends", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Closes the Admin client, if one was created (waits up to 2 s). */
    void close() {
        admin.close();
    }
}
