package io.readside.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.stream.Stream;

import io.readside.dev.EmbeddedPostgresql;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A PostgreSQL streaming replica (hot standby) of an embedded primary: a cold copy of the primary's data directory
 * with {@code standby.signal} and {@code primary_conninfo} (zonky's binaries have no {@code pg_basebackup}); started,
 * it streams the primary's WAL like any standby. Used by the tests and by {@code bench/run.sh}.
 */
public final class StreamingReplica {

    private StreamingReplica() {
    }

    /**
     * Makes {@code replicaData} a standby of the primary whose data is {@code primaryData}, which must be stopped (the
     * copy is cold) and will listen on {@code primaryPort}.
     */
    public static void copy(Path primaryData, int primaryPort, Path replicaData) {
        try (Stream<Path> files = Files.walk(primaryData)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                if (name.equals("postmaster.pid") || name.equals("epg-lock")) {
                    continue; // what marks a running server, or zonky's lock of the primary's directory
                }
                Path target = replicaData.resolve(primaryData.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                    Files.setPosixFilePermissions(target, Files.getPosixFilePermissions(file)); // 0700, or it refuses
                } else {
                    Files.copy(file, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
            Files.writeString(replicaData.resolve("standby.signal"), "");
            Files.writeString(replicaData.resolve("postgresql.auto.conf"),
                    "primary_conninfo = 'host=localhost port=" + primaryPort + " user=postgres'\n",
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The service's configuration: {@code primary} as its datasource, {@code replicas} as its read replicas. */
    public static Map<String, String> configuration(EmbeddedPostgresql primary, String replicas) {
        return Map.of(
                "quarkus.datasource.reactive.url", primary.reactiveUrl(),
                "quarkus.datasource.jdbc.url", primary.jdbcUrl(),
                "quarkus.datasource.username", EmbeddedPostgresql.USER,
                "quarkus.datasource.password", EmbeddedPostgresql.USER,
                "readside.query.replicas", replicas);
    }

    /** Starts the standby made by {@link #copy} (again, after a stop or a kill: it recovers and streams on). */
    public static EmbeddedPostgres start(Path replicaData, int port) {
        try {
            return EmbeddedPostgres.builder().setPort(port).setDataDirectory(replicaData)
                    .setCleanDataDirectory(false).setServerConfig("max_connections", "100").start();
        } catch (IOException e) {
            throw new UncheckedIOException("the replica did not start in " + replicaData, e);
        }
    }
}
