package io.readside.projection.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import io.readside.projection.LogGuard;

/**
 * DOWN while a topic is fenced ({@link LogGuard}): its log is not the one the stored positions came from (recreated,
 * restored, failed over), so its read models stop moving until an operator accepts the new log.
 */
@Readiness
@ApplicationScoped
public class LogIdentityReadinessCheck implements HealthCheck {

    @Inject
    LogGuard guard;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("readside-log-identity");
        var mismatches = guard.mismatches();
        if (mismatches.isEmpty()) {
            return response.up().build();
        }
        mismatches.forEach((topic, mismatch) -> response.withData(topic, mismatch.reason() + " (since "
                + mismatch.since() + "); POST /admin/topics/" + topic + "/accept-new-log accepts the new log"));
        return response.down().build();
    }
}
