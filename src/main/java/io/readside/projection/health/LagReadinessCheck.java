package io.readside.projection.health;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import io.readside.projection.lag.LagMonitor;
import io.readside.projection.lag.LagSnapshot;

/**
 * Ready while PostgreSQL answers the lag monitor and, when a threshold is set, while the lag is below it. A broker
 * that stops answering after it once did does not make the instance unready: the queries need only PostgreSQL; it
 * is reported here (data {@code kafka}), by {@code readside_kafka_reachable} and on the status page. An instance
 * that owns no partitions (more members than partitions) is ready: the lag is the group's, measured from the
 * positions in PostgreSQL, not this member's.
 */
@Readiness
@ApplicationScoped
public class LagReadinessCheck implements HealthCheck {

    /** A measurement's calls each have a time-out; one running longer than this is stuck. */
    static final Duration MEASURING_AT_MOST = Duration.ofSeconds(60);

    @Inject
    LagMonitor monitor;

    @ConfigProperty(name = "readside.health.max-lag-records")
    Optional<Long> maxLagRecords;
    @ConfigProperty(name = "readside.health.max-lag-seconds")
    Optional<Double> maxLagSeconds;

    @Override
    public HealthCheckResponse call() {
        LagSnapshot lag = monitor.latest();
        HealthCheckResponseBuilder response = HealthCheckResponse.named("readside-consumer-lag")
                .withData("lag_records", lag.totalLagRecords())
                .withData("lag_seconds", String.format(Locale.ROOT, "%.3f", lag.maxLagSeconds()))
                .withData("max_lag_records", maxLagRecords.map(String::valueOf).orElse("off"))
                .withData("max_lag_seconds", maxLagSeconds.map(String::valueOf).orElse("off"))
                .withData("measured_at", String.valueOf(lag.measuredAt()));
        Duration stale = monitor.interval().multipliedBy(3).plusSeconds(10);
        Instant since = monitor.measuringSince();
        // the last measurement succeeded and the next is under way, its calls waiting for their time-outs (a broker
        // that just went away): the monitor is not stuck; what that measurement finds is reported when it ends
        boolean measuring = lag.measuredAt() != null && lag.error() == null && since != null
                && since.isAfter(Instant.now().minus(MEASURING_AT_MOST));
        if (measuring) {
            response.withData("measuring_since", since.toString());
        }
        if (!measuring && (lag.measuredAt() == null || lag.measuredAt().isBefore(Instant.now().minus(stale)))) {
            if (lag.kafkaDown() && monitor.kafkaAnsweredAt() != null) {
                // the queries need only PostgreSQL: a broker outage is reported (status page, metrics, an alert),
                // and the read side stays in service; read-your-writes waits answer 503 for what they cannot confirm
                return response.up().withData("kafka", "unreachable since about " + monitor.kafkaAnsweredAt()
                        + ": " + lag.error()).build();
            }
            return response.down().withData("reason", "Kafka or PostgreSQL did not answer the lag monitor for "
                    + stale.toSeconds() + " s: " + lag.error()).build();
        }
        if (maxLagRecords.isPresent() && lag.totalLagRecords() > maxLagRecords.get()) {
            return response.down().withData("reason", "lag of " + lag.totalLagRecords()
                    + " records is above readside.health.max-lag-records=" + maxLagRecords.get()).build();
        }
        if (maxLagSeconds.isPresent() && lag.maxLagSeconds() > maxLagSeconds.get()) {
            return response.down().withData("reason", "lag of " + lag.maxLagSeconds()
                    + " s is above readside.health.max-lag-seconds=" + maxLagSeconds.get()).build();
        }
        return response.up().build();
    }
}
