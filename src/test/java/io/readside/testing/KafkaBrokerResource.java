package io.readside.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
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

    private static synchronized EmbeddedKafka broker() {
        if (broker == null) {
            try {
                broker = EmbeddedKafka.start(Files.createTempDirectory("readside-test-kafka"), 0, 0, PARTITIONS);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return broker;
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
