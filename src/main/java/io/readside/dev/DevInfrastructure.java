package io.readside.dev;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.flywaydb.core.Flyway;
import org.jboss.logging.Logger;

import io.quarkus.arc.profile.IfBuildProfile;
import io.quarkus.runtime.StartupEvent;

/**
 * {@code quarkus:dev} on a bare machine: starts a Kafka broker on localhost:9092 and a PostgreSQL before anything
 * else, then applies the migrations (dev mode leaves {@code migrate-at-start} off because the database only exists
 * from here on). Both keep their data under {@code target/readside-dev}, so a restart keeps the read models and the
 * log they came from together. A port that already answers is taken as a running server and used as it is: that is
 * the case after a live reload, and when you run your own broker or database.
 */
@IfBuildProfile("dev")
@ApplicationScoped
public class DevInfrastructure {

    private static final Logger LOG = Logger.getLogger(DevInfrastructure.class);

    @ConfigProperty(name = "readside.dev.embedded")
    boolean embedded;
    @ConfigProperty(name = "readside.dev.data-dir")
    Path dataDir;
    @ConfigProperty(name = "readside.dev.kafka-port")
    int kafkaPort;
    @ConfigProperty(name = "readside.dev.kafka-controller-port")
    int kafkaControllerPort;
    @ConfigProperty(name = "readside.dev.kafka-partitions")
    int kafkaPartitions;
    @ConfigProperty(name = "readside.dev.postgres-port")
    int postgresPort;

    @Inject
    Flyway flyway;

    // before the messaging channels start (they observe StartupEvent at LIBRARY_BEFORE)
    void start(@Observes @Priority(10) StartupEvent event) {
        if (embedded) { // side by side: neither waits for the other, and the migrations only for PostgreSQL
            CompletableFuture<Void> kafka = CompletableFuture.runAsync(this::startKafka,
                    runnable -> new Thread(runnable, "embedded-kafka-start").start());
            startPostgresql();
            flyway.migrate();
            kafka.join();
        } else {
            flyway.migrate();
        }
    }

    private void startKafka() {
        if (answers(kafkaPort)) {
            LOG.infof("Kafka: something already listens on localhost:%d, using it", kafkaPort);
            return;
        }
        long start = System.nanoTime();
        EmbeddedKafka kafka = EmbeddedKafka.start(dataDir.resolve("kafka"), kafkaPort, kafkaControllerPort,
                kafkaPartitions);
        Runtime.getRuntime().addShutdownHook(new Thread(kafka::close, "embedded-kafka-shutdown"));
        LOG.infof("Kafka: embedded broker up on %s in %d ms (log in %s)", kafka.bootstrapServers(),
                (System.nanoTime() - start) / 1_000_000, dataDir.resolve("kafka").toAbsolutePath());
    }

    private void startPostgresql() {
        if (answers(postgresPort)) {
            LOG.infof("PostgreSQL: something already listens on localhost:%d, using it", postgresPort);
            return;
        }
        long start = System.nanoTime();
        EmbeddedPostgresql postgres = EmbeddedPostgresql.start(dataDir.resolve("postgres"), postgresPort, true);
        Runtime.getRuntime().addShutdownHook(new Thread(postgres::close, "embedded-postgresql-shutdown"));
        LOG.infof("PostgreSQL: embedded server up on %s in %d ms (data in %s)", postgres.jdbcUrl(),
                (System.nanoTime() - start) / 1_000_000, dataDir.resolve("postgres").toAbsolutePath());
    }

    private static boolean answers(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("localhost", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
