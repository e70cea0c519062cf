package io.readside.dev;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) in this JVM, for dev mode and tests.
 * It is Apache Kafka's own server ({@code kafka_2.13}), formatted the way {@code kafka-storage.sh format} does;
 * its log directory may be kept between runs. Never part of the packaged application (provided scope).
 */
public final class EmbeddedKafka implements AutoCloseable {

    private final KafkaRaftServer server;
    private final int port;

    private EmbeddedKafka(KafkaRaftServer server, int port) {
        this.server = server;
        this.port = port;
    }

    /** Starts a broker on {@code brokerPort} (0 = any free port), keeping its log in {@code dataDir}. */
    public static EmbeddedKafka start(Path dataDir, int brokerPort, int controllerPort, int defaultPartitions) {
        int port = brokerPort == 0 ? freePort() : brokerPort;
        int controller = controllerPort == 0 ? freePort() : controllerPort;
        try {
            Path logDir = dataDir.resolve("log").toAbsolutePath();
            Files.createDirectories(dataDir);
            Properties props = new Properties();
            props.putAll(Map.ofEntries(
                    Map.entry("process.roles", "broker,controller"),
                    Map.entry("node.id", "1"),
                    Map.entry("controller.quorum.voters", "1@localhost:" + controller),
                    Map.entry("listeners", "PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controller),
                    Map.entry("advertised.listeners", "PLAINTEXT://localhost:" + port),
                    Map.entry("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
                    Map.entry("controller.listener.names", "CONTROLLER"),
                    Map.entry("inter.broker.listener.name", "PLAINTEXT"),
                    Map.entry("log.dirs", logDir.toString()),
                    Map.entry("num.partitions", String.valueOf(defaultPartitions)),
                    Map.entry("auto.create.topics.enable", "true"),
                    Map.entry("offsets.topic.replication.factor", "1"),
                    Map.entry("offsets.topic.num.partitions", "5"),
                    Map.entry("transaction.state.log.replication.factor", "1"),
                    Map.entry("transaction.state.log.min.isr", "1"),
                    Map.entry("share.coordinator.state.topic.replication.factor", "1"),
                    Map.entry("share.coordinator.state.topic.min.isr", "1"),
                    Map.entry("group.initial.rebalance.delay.ms", "0"),
                    // a producer whose whole clock runs ahead stamps its records ahead too: refused beyond a minute
                    // (readside.orders.max-clock-skew), as deploy/k8s and docker-compose.yaml do for topic orders
                    Map.entry("log.message.timestamp.after.max.ms", "60000")));
            Path config = dataDir.resolve("server.properties");
            try (OutputStream out = Files.newOutputStream(config)) {
                props.store(out, "written by Readside's embedded broker");
            }
            // `kafka-storage.sh format` on a new log directory; a kept one keeps its cluster id and its data
            if (!Files.exists(logDir.resolve("meta.properties"))) {
                ByteArrayOutputStream formatOutput = new ByteArrayOutputStream();
                int rc = StorageTool.execute(new String[] { "format", "--config", config.toString(),
                        "--cluster-id", Uuid.randomUuid().toString() },
                        new PrintStream(formatOutput, true, StandardCharsets.UTF_8));
                if (rc != 0) {
                    throw new IllegalStateException("formatting the Kafka log directory failed: " + formatOutput);
                }
            }
            KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
            server.startup();
            EmbeddedKafka kafka = new EmbeddedKafka(server, port);
            kafka.awaitReady(Duration.ofSeconds(60));
            return kafka;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String bootstrapServers() {
        return "localhost:" + port;
    }

    private void awaitReady(Duration timeout) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            admin.describeCluster().nodes().get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the embedded Kafka broker did not come up on " + bootstrapServers(), e);
        }
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
