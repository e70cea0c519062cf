package io.readside.projection.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Startup;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfoService;

/** Started once every schema migration is applied (the channels' own startup checks add "subscribed"). */
@Startup
@ApplicationScoped
public class MigrationsStartupCheck implements HealthCheck {

    @Inject
    Flyway flyway;

    @Override
    public HealthCheckResponse call() {
        try {
            MigrationInfoService info = flyway.info();
            int pending = info.pending().length;
            return HealthCheckResponse.named("readside-schema-migrations")
                    .status(pending == 0)
                    .withData("schema_version", info.current() == null ? "none" : info.current().getVersion().toString())
                    .withData("pending", pending)
                    .build();
        } catch (RuntimeException e) {
            return HealthCheckResponse.named("readside-schema-migrations").down()
                    .withData("reason", "cannot read the schema history: " + e.getMessage()).build();
        }
    }
}
