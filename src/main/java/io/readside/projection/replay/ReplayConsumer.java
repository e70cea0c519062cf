package io.readside.projection.replay;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** The consumer a rebuild reads its topic with. */
final class ReplayConsumer {

    private ReplayConsumer() {
    }

    /** A group-less read_committed consumer ({@code readside-rebuild}) that never commits; the caller closes it. */
    static KafkaConsumer<byte[], byte[]> create(String bootstrapServers) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1000);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "readside-rebuild");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"); // what the live pass applied
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
