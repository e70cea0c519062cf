package io.readside.projection.lag;

import java.time.Instant;
import java.util.List;

/**
 * One measurement of every partition Readside consumes. {@code error} says why the last attempt failed (the
 * partitions are then those of the last good measurement, taken at {@code measuredAt}); {@code kafkaDown}: it
 * failed because the broker did not answer.
 */
public record LagSnapshot(Instant measuredAt, List<PartitionLag> partitions, String error, Instant errorAt,
        boolean kafkaDown) {

    public static final LagSnapshot NONE = new LagSnapshot(null, List.of(), "not measured yet", null, false);

    public LagSnapshot(Instant measuredAt, List<PartitionLag> partitions, String error, Instant errorAt) {
        this(measuredAt, partitions, error, errorAt, false);
    }

    public long totalLagRecords() {
        return partitions.stream().mapToLong(PartitionLag::lagRecords).sum();
    }

    public double maxLagSeconds() {
        return partitions.stream().mapToDouble(PartitionLag::lagSeconds).max().orElse(0);
    }

    LagSnapshot failed(String why, Instant at, boolean kafkaDown) {
        return new LagSnapshot(measuredAt, partitions, why, at, kafkaDown);
    }
}
