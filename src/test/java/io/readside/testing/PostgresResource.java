package io.readside.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
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

    private static Path dataDir;
    private static int port;

    private static synchronized EmbeddedPostgresql server() {
        if (postgres == null) {
            try {
                dataDir = Files.createTempDirectory("readside-test-pg").resolve("data");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            postgres = EmbeddedPostgresql.start(dataDir, 0, true);
            port = postgres.port();
        }
        return postgres;
    }

    /** An outage: the server stops, its data stays for {@link #endOutage()}. */
    public static synchronized void startOutage() {
        if (postgres == null) {
            throw new IllegalStateException("no PostgreSQL is running for this application");
        }
        postgres.close();
        postgres = null;
    }

    /** The same server again, on the same port with the same data. */
    public static synchronized void endOutage() {
        postgres = EmbeddedPostgresql.start(dataDir, port, true);
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
        if (dataDir != null) {
            try (Stream<Path> files = Files.walk(dataDir.getParent())) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            dataDir = null;
        }
    }
}
