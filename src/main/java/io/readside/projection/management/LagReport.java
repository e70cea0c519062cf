package io.readside.projection.management;

import java.time.Instant;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.readside.projection.lag.LagMonitor;
import io.readside.projection.lag.LagSnapshot;
import io.readside.projection.lag.PartitionLag;

/** The latest lag measurement, per partition and in total: {@code GET /lag} on the management port. */
@ApplicationScoped
public class LagReport {

    @Inject
    LagMonitor monitor;

    public record Totals(long lagRecords, double lagSeconds) {
    }

    public record LagAnswer(Instant measuredAt, long intervalSeconds, String error, Instant errorAt,
            List<PartitionLag> partitions, Totals totals) {
    }

    public LagAnswer lag() {
        LagSnapshot snapshot = monitor.latest();
        return new LagAnswer(snapshot.measuredAt(), monitor.interval().toSeconds(), snapshot.error(),
                snapshot.errorAt(), snapshot.partitions(),
                new Totals(snapshot.totalLagRecords(), snapshot.maxLagSeconds()));
    }
}
