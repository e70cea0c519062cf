package io.readside.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.readside.dev.EmbeddedPostgresql;

/** A real PostgreSQL 15 server, started once and shared by every test that needs one. */
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
            Runtime.getRuntime().addShutdownHook(new Thread(postgres::close, "test-postgresql-shutdown"));
        }
        return postgres;
    }

    @Override
    public void stop() {
        // kept for the next test class; stopped when the JVM exits
    }
}
