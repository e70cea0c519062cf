package io.readside.testing;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/** Topics of 3 partitions whose broker refuses records above a size: what a relay must park, and an operator fixes. */
public final class TopicLimits {

    private TopicLimits() {
    }

    /** Creates {@code name} (kept if it exists), with {@code max.message.bytes} when {@code maxMessageBytes} is set. */
    public static void create(String bootstrapServers, String name, String maxMessageBytes) throws Exception {
        try (Admin admin = admin(bootstrapServers)) {
            NewTopic topic = new NewTopic(name, 3, (short) 1);
            if (maxMessageBytes != null) {
                topic.configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, maxMessageBytes));
            }
            try {
                admin.createTopics(List.of(topic)).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
    }

    /** Sets {@code max.message.bytes} and waits until the broker describes it so (it applies it from metadata). */
    public static void setMaxMessageBytes(String bootstrapServers, String topic, String max, Duration within)
            throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try (Admin admin = admin(bootstrapServers)) {
            AlterConfigOp set = new AlterConfigOp(new ConfigEntry(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, max),
                    AlterConfigOp.OpType.SET);
            admin.incrementalAlterConfigs(Map.of(resource, List.of(set))).all().get();
            await().atMost(within).until(() -> max.equals(admin.describeConfigs(List.of(resource)).all().get()
                    .get(resource).get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value()));
        }
    }

    private static Admin admin(String bootstrapServers) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }
}
