package io.readside.projection.lag;

import java.time.Instant;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * How far one partition's read model is behind its log, at {@code measuredAt}.
 *
 * @param appliedOffset the next offset to apply: the position stored in PostgreSQL with the last applied change
 *        (the log start when nothing was applied yet)
 * @param lagRecords {@code endOffset - appliedOffset}: records in the log not yet in the read model, whether
 *        unfetched, fetched, or waiting for acknowledgement
 * @param lagSeconds age of the oldest record not yet applied (its timestamp to now); 0 when caught up
 * @param appliedPerSecond records applied per second since the previous measurement
 * @param lastAppliedAt when the position last moved (null: never)
 */
@RegisterForReflection
public record PartitionLag(String channel, String group, String topic, int partition, long endOffset,
        long appliedOffset, long lagRecords, double lagSeconds, double appliedPerSecond, Instant lastAppliedAt) {
}
