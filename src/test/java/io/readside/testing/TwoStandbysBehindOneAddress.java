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
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.readside.dev.EmbeddedPostgresql;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A real primary and two real streaming standbys behind one address ({@link RoundRobinProxy}), as
 * CloudNativePG's {@code -ro} Service (the cnpg overlay: 3 instances, 2 standbys) or a managed reader endpoint gives
 * them to the service: {@code readside.query.replicas=<the proxy>}.
 */
public class TwoStandbysBehindOneAddress implements QuarkusTestResourceLifecycleManager {

    private static EmbeddedPostgresql primary;
    private static EmbeddedPostgres standbyA;
    private static EmbeddedPostgres standbyB;
    private static int portA;
    private static int portB;
    private static RoundRobinProxy proxy;
    private static Path root;

    /** The profile: the service with readside.query.replicas = the -ro address. */
    public static class Profile implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(KafkaBrokerResource.class, Map.of(), true),
                    new TestResourceEntry(TwoStandbysBehindOneAddress.class));
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> config = new HashMap<>(Tokens.trust());
            config.put("readside.query.replica-check-every", "1s");
            config.put("readside.query.max-replica-lag", "2s");
            config.put("readside.query.replica-pool-size", "4");
            return config;
        }
    }

    @Override
    public synchronized Map<String, String> start() {
        try {
            root = Files.createTempDirectory("readside-test-ro");
            Path primaryData = root.resolve("primary");
            EmbeddedPostgresql initialised = EmbeddedPostgresql.start(primaryData, 0, true);
            int primaryPort = initialised.port();
            initialised.close();
            StreamingReplica.copy(primaryData, primaryPort, root.resolve("a"));
            StreamingReplica.copy(primaryData, primaryPort, root.resolve("b"));
            primary = EmbeddedPostgresql.start(primaryData, primaryPort, true);
            portA = LocalHost.freePort();
            standbyA = StreamingReplica.start(root.resolve("a"), portA);
            portB = LocalHost.freePort();
            standbyB = StreamingReplica.start(root.resolve("b"), portB);
            proxy = new RoundRobinProxy(List.of(portA, portB));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return StreamingReplica.configuration(primary, "postgresql://127.0.0.1:" + proxy.port() + "/" + EmbeddedPostgresql.DATABASE);
    }

    public static RoundRobinProxy proxy() {
        return proxy;
    }

    public static String onA(String sql) {
        return on(portA, sql);
    }

    public static String onB(String sql) {
        return on(portB, sql);
    }

    public static int portA() {
        return portA;
    }

    public static int portB() {
        return portB;
    }

    private static String on(int port, String sql) {
        try (Connection connection = DriverManager.getConnection("jdbc:postgresql://localhost:" + port + "/"
                + EmbeddedPostgresql.DATABASE, EmbeddedPostgresql.USER, EmbeddedPostgresql.USER);
                Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
            return rows.next() ? rows.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException("refused " + sql, e);
        }
    }

    @Override
    public synchronized void stop() {
        try {
            if (proxy != null) {
                proxy.close();
            }
            for (EmbeddedPostgres standby : new EmbeddedPostgres[] {standbyA, standbyB}) {
                if (standby != null) {
                    try {
                        standby.close();
                    } catch (IOException | RuntimeException e) {
                        // going anyway
                    }
                }
            }
            if (primary != null) {
                primary.close();
            }
        } finally {
            try {
                LocalHost.deleteRecursively(root);
            } catch (IOException e) {
                // scratch
            }
        }
    }
}
