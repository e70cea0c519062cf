package io.readside.projection.rest;

import java.time.Instant;
import java.util.List;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import io.readside.projection.lag.LagMonitor;
import io.readside.projection.lag.LagSnapshot;
import io.readside.projection.lag.PartitionLag;

/** The latest lag measurement as JSON: per partition and in total. */
@Path("/lag")
@Produces(MediaType.APPLICATION_JSON)
public class LagResource {

    @Inject
    LagMonitor monitor;

    public record Totals(long lagRecords, double lagSeconds) {
    }

    public record LagAnswer(Instant measuredAt, long intervalSeconds, String error, Instant errorAt,
            List<PartitionLag> partitions, Totals totals) {
    }

    @GET
    public LagAnswer lag() {
        LagSnapshot snapshot = monitor.latest();
        return new LagAnswer(snapshot.measuredAt(), monitor.interval().toSeconds(), snapshot.error(),
                snapshot.errorAt(), snapshot.partitions(),
                new Totals(snapshot.totalLagRecords(), snapshot.maxLagSeconds()));
    }
}
