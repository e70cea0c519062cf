package io.readside.projection.lag;

import java.time.Instant;
import java.util.List;

/**
 * One measurement of every partition Readside consumes. {@code error} says why the last attempt failed (the
 * partitions are then those of the last good measurement, taken at {@code measuredAt}).
 */
public record LagSnapshot(Instant measuredAt, List<PartitionLag> partitions, String error, Instant errorAt) {

    public static final LagSnapshot NONE = new LagSnapshot(null, List.of(), "not measured yet", null);

    public long totalLagRecords() {
        return partitions.stream().mapToLong(PartitionLag::lagRecords).sum();
    }

    public double maxLagSeconds() {
        return partitions.stream().mapToDouble(PartitionLag::lagSeconds).max().orElse(0);
    }

    LagSnapshot failed(String why, Instant at) {
        return new LagSnapshot(measuredAt, partitions, why, at);
    }
}
