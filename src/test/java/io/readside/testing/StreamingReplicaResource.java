package io.readside.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.readside.dev.EmbeddedPostgresql;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A real PostgreSQL 15 primary and a real streaming replica of it ({@link StreamingReplica}), for the reads on
 * replicas. The service gets the primary as its datasource and the replica in {@code readside.query.replicas}.
 */
public class StreamingReplicaResource implements QuarkusTestResourceLifecycleManager {

    private static EmbeddedPostgresql primary;
    private static EmbeddedPostgres replica;
    private static Path root;
    private static int replicaPort;

    @Override
    public synchronized Map<String, String> start() {
        try {
            root = Files.createTempDirectory("readside-test-replication");
            Path primaryData = root.resolve("primary");
            EmbeddedPostgresql initialised = EmbeddedPostgresql.start(primaryData, 0, true); // initdb, kept at close
            int primaryPort = initialised.port();
            initialised.close(); // a cold copy: the primary is stopped while its files are copied
            StreamingReplica.copy(primaryData, primaryPort, root.resolve("replica"));
            primary = EmbeddedPostgresql.start(primaryData, primaryPort, true);
            replicaPort = LocalHost.freePort();
            startReplica();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return StreamingReplica.configuration(primary, replicaUrl());
    }

    /** The replica as the service knows it: {@code readside.query.replicas}. */
    public static String replicaUrl() {
        return "postgresql://localhost:" + replicaPort + "/" + EmbeddedPostgresql.DATABASE;
    }

    /** The replica's name in the service's metrics, health and logs. */
    public static String replicaName() {
        return "localhost:" + replicaPort + "/" + EmbeddedPostgresql.DATABASE;
    }

    /** Runs a statement on the replica (it is read-only: a query or a function such as pg_wal_replay_pause()). */
    public static synchronized String onReplica(String sql) {
        try (Connection connection = DriverManager.getConnection("jdbc:postgresql://localhost:" + replicaPort + "/"
                + EmbeddedPostgresql.DATABASE, EmbeddedPostgresql.USER, EmbeddedPostgresql.USER);
                Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
            return rows.next() ? rows.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException("the replica refused " + sql, e);
        }
    }

    /** SIGKILL for the replica's postmaster and every backend of it, as an OOM killer or a lost node would. */
    public static synchronized void killReplica() {
        try {
            long pid = Long.parseLong(Files.readAllLines(root.resolve("replica/postmaster.pid")).get(0).strip());
            ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow();
            postmaster.descendants().forEach(ProcessHandle::destroyForcibly);
            postmaster.destroyForcibly();
            postmaster.onExit().join();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            replica.close(); // the server is gone: this only gives the directory's lock back (pg_ctl stop fails)
        } catch (IOException | RuntimeException e) {
            // expected: there is no server to stop
        }
        replica = null;
    }

    /** The killed replica again, on its port and data directory (it recovers and streams on). */
    public static synchronized void startReplica() {
        replica = StreamingReplica.start(root.resolve("replica"), replicaPort);
    }

    @Override
    public synchronized void stop() {
        try {
            if (replica != null) {
                replica.close();
            }
            if (primary != null) {
                primary.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            replica = null;
            primary = null;
            delete(root);
        }
    }

    private static void delete(Path directory) {
        if (directory == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
