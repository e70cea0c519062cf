package io.readside.projection.health;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.health.SmallRyeHealthReporter;

/**
 * Readiness as a metric ({@code readside_ready}, 1 or 0), evaluated every {@code readside.lag.interval} with the
 * same checks as {@code /q/health/ready}, so that dashboards and alerts see what the probe sees.
 */
@ApplicationScoped
public class ReadinessMetric {

    @Inject
    SmallRyeHealthReporter health;
    @Inject
    MeterRegistry registry;
    @ConfigProperty(name = "readside.lag.interval")
    Duration interval;

    private final AtomicInteger ready = new AtomicInteger();
    private ScheduledExecutorService scheduler;

    void start(@Observes StartupEvent event) {
        Gauge.builder("readside.ready", ready, AtomicInteger::get)
                .description("1 while every readiness check is UP, else 0").register(registry);
        scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "readside-readiness-metric");
            thread.setDaemon(true);
            return thread;
        });
        scheduler.scheduleWithFixedDelay(this::evaluate, interval.toMillis(), interval.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void evaluate() {
        try {
            ready.set(health.getReadiness().isDown() ? 0 : 1);
        } catch (RuntimeException e) {
            ready.set(0);
        }
    }

    @PreDestroy
    void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }
}
