package io.readside.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.readside.dev.EmbeddedKafka;

/** A real Kafka broker (KRaft) in the test JVM, shared by the test classes that run on one application. */
public class KafkaBrokerResource implements QuarkusTestResourceLifecycleManager {

    static final int PARTITIONS = 3;

    private static EmbeddedKafka broker;

    /** Also a system property of the test JVM, for *IT tests, which cannot read the application's config. */
    public static final String BOOTSTRAP_PROPERTY = "readside.test.kafka.bootstrap-servers";

    @Override
    public Map<String, String> start() {
        String bootstrapServers = broker().bootstrapServers();
        System.setProperty(BOOTSTRAP_PROPERTY, bootstrapServers);
        return Map.of("kafka.bootstrap.servers", bootstrapServers);
    }

    private static Path dataDir;
    private static int port;
    private static int controllerPort;

    private static synchronized EmbeddedKafka broker() {
        if (broker == null) {
            try {
                dataDir = Files.createTempDirectory("readside-test-kafka");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            port = LocalHost.freePort();
            controllerPort = LocalHost.freePort();
            broker = EmbeddedKafka.start(dataDir, port, controllerPort, PARTITIONS);
        }
        return broker;
    }

    /** An outage: the broker stops, its log stays for {@link #endOutage()}. */
    public static synchronized void startOutage() {
        if (broker == null) {
            throw new IllegalStateException("no broker is running for this application");
        }
        broker.close();
        broker = null;
    }

    /** The same broker again, on the same ports with the same log. */
    public static synchronized void endOutage() {
        broker = EmbeddedKafka.start(dataDir, port, controllerPort, PARTITIONS);
    }

    /** Quarkus stops the resource with the application it served (a profile change starts new ones). */
    @Override
    public void stop() {
        close();
    }

    private static synchronized void close() {
        if (broker != null) {
            broker.close();
            broker = null;
        }
    }
}
