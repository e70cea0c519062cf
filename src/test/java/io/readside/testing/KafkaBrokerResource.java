package io.readside.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.readside.dev.EmbeddedKafka;

/** A real Kafka broker (KRaft) in the test JVM, started once and shared by every test that needs one. */
public class KafkaBrokerResource implements QuarkusTestResourceLifecycleManager {

    static final int PARTITIONS = 3;

    private static EmbeddedKafka broker;

    @Override
    public Map<String, String> start() {
        return Map.of("kafka.bootstrap.servers", broker().bootstrapServers());
    }

    private static synchronized EmbeddedKafka broker() {
        if (broker == null) {
            try {
                broker = EmbeddedKafka.start(Files.createTempDirectory("readside-test-kafka"), 0, 0, PARTITIONS);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "test-kafka-shutdown"));
        }
        return broker;
    }

    @Override
    public void stop() {
        // kept for the next test class; stopped when the JVM exits
    }
}
