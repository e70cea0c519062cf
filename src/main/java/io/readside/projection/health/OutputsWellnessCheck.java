package io.readside.projection.health;

import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

import io.readside.projection.outbox.ParkedOutputs;
import io.smallrye.health.api.Wellness;

/**
 * {@code readside-outputs} ({@code /q/health/well}): DOWN while records the broker refused for good wait in
 * {@code parked_outputs} (cluster-wide), with the count, the oldest and the last reason per topic, and while the
 * oldest unpublished outbox row is older than {@code readside.outbox.max-unpublished-age} (a minute; the relay is
 * held: a broker down, a stuck topic). A wellness check, not readiness: the queries and the inputs go on, and a pod
 * must not leave its Service over an output topic.
 */
@Wellness
@ApplicationScoped
public class OutputsWellnessCheck implements HealthCheck {

    /** 1 minute by default, as the alert {@code ReadsideOutboxStuck}. */
    @ConfigProperty(name = "readside.outbox.max-unpublished-age")
    Duration maxUnpublishedAge;
    @Inject
    ParkedOutputs parked;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("readside-outputs").up();
        double oldest = parked.oldestUnpublishedSeconds();
        if (oldest > maxUnpublishedAge.toMillis() / 1000.0) { // the relay is held (a broker down, a topic that acknowledges
            // nothing: not enough in-sync replicas, no leader); alert ReadsideOutboxStuck fires at the same bound
            response.down().withData("outbox", "the oldest unpublished output was written " + Math.round(oldest)
                    + " s ago; the relay's WARN lines say which topic fails and why");
        }
        for (ParkedOutputs.Waiting waiting : parked.latest()) {
            response.down().withData(waiting.topic(), waiting.waiting() + " parked (" + waiting.superseded()
                    + " superseded) since " + waiting.oldest() + ", last: " + waiting.lastReason()
                    + "; POST /admin/parked-outputs/resend once the topic is fixed");
        }
        return response.build();
    }
}
