package io.readside.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.readside.dev.EmbeddedPostgresql;

/** A real PostgreSQL 15 server, shared by the test classes that run on one application. */
public class PostgresResource implements QuarkusTestResourceLifecycleManager {

    private static EmbeddedPostgresql postgres;

    @Override
    public Map<String, String> start() {
        EmbeddedPostgresql server = server();
        return Map.of(
                "quarkus.datasource.reactive.url", server.reactiveUrl(),
                "quarkus.datasource.jdbc.url", server.jdbcUrl(),
                "quarkus.datasource.username", EmbeddedPostgresql.USER,
                "quarkus.datasource.password", EmbeddedPostgresql.USER);
    }

    private static synchronized EmbeddedPostgresql server() {
        if (postgres == null) {
            try {
                postgres = EmbeddedPostgresql.start(Files.createTempDirectory("readside-test-pg").resolve("data"), 0,
                        false);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return postgres;
    }

    /** Quarkus stops the resource with the application it served (a profile change starts new ones). */
    @Override
    public void stop() {
        close();
    }

    private static synchronized void close() {
        if (postgres != null) {
            postgres.close();
            postgres = null;
        }
    }
}
