package io.readside.projection.query;

import java.util.Locale;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

import io.smallrye.health.api.Wellness;

/**
 * {@code readside-read-replicas} on {@code /q/health/well}: each replica's place in the rotation and lag; DOWN while
 * replicas are configured and none is usable (GET queries are then on the primary). Never readiness: the primary
 * answers every read.
 */
@Wellness
@ApplicationScoped
public class ReadReplicasCheck implements HealthCheck {

    @Inject
    ReadReplicas replicas;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("readside-read-replicas");
        if (!replicas.configured()) {
            return response.up().withData("replicas", "none configured: GET queries read from the primary").build();
        }
        for (Replica replica : replicas.all()) {
            response.withData(replica.name(), replica.inRotation()
                    ? String.format(Locale.ROOT, "in the rotation, %.1f s behind", replica.lagSeconds())
                    : "out of the rotation: " + replica.outOfRotation());
        }
        boolean any = replicas.all().stream().anyMatch(Replica::inRotation);
        return response.status(any).withData("reads", any ? "on the replicas in the rotation"
                : "on the primary: no replica is usable").build();
    }
}
