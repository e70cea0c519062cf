package io.readside.projection;

import java.util.Map;

import io.vertx.mutiny.sqlclient.Row;

/**
 * A topic's log as the broker describes it now: its topic id, the cluster's id, and each partition's log end offset
 * (partition -> the offset the next record will get). Compared by {@link LogGuard} with what the stored positions
 * were recorded for.
 */
record ObservedLog(String topicId, String clusterId, Map<Integer, Long> logEnds) {

    /**
     * Why this log is not the one the positions came from, or null when it is.
     *
     * @param identity the topic's row of {@code log_identities} ({@code topic_id, cluster_id, fenced_reason}); null
     *            at first sight, when the positions belong to this log unless one of them is beyond its end
     * @param positions the topic's rows of {@code projection_positions} ({@code consumer_group, kafka_partition,
     *            next_offset}), every group
     * @return the reason to fence the topic: the one already recorded, another cluster, another topic id, or a
     *         position beyond its partition's end (or of a partition the log does not have)
     */
    String mismatchWith(Row identity, Iterable<Row> positions) {
        String reason = null;
        if (identity != null) {
            if (identity.getString("fenced_reason") != null) {
                reason = identity.getString("fenced_reason");
            } else if (!identity.getString("cluster_id").equals(clusterId)) {
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
        return reason;
    }
}
