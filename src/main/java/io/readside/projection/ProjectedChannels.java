package io.readside.projection;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.eclipse.microprofile.config.Config;

/**
 * The incoming channels on the Kafka connector that project into PostgreSQL (they resume from the stored positions:
 * {@link PositionSeeker}), with their group and topic, read from the configuration. Dev mode's simulated payment
 * service is not one, nor are the in-memory channels of the fast test tier. A channel configured with fewer than one
 * consumer ({@code concurrency}) is refused: read at start, this stops the service with the key to fix.
 */
public final class ProjectedChannels {

    /** A Kafka channel Readside consumes. */
    public record Consumed(String channel, String group, String topic) {
    }

    private ProjectedChannels() {
    }

    /** Sorted by channel name. */
    public static List<Consumed> of(Config config) {
        List<Consumed> consumed = new ArrayList<>();
        for (String name : config.getPropertyNames()) {
            if (!name.startsWith("mp.messaging.incoming.") || !name.endsWith(".connector")) {
                continue;
            }
            String prefix = name.substring(0, name.length() - ".connector".length());
            if ("smallrye-kafka".equals(config.getOptionalValue(name, String.class).orElse(""))
                    && PositionSeeker.NAME.equals(config.getOptionalValue(prefix + ".consumer-rebalance-listener.name",
                            String.class).orElse(""))) {
                String channel = prefix.substring("mp.messaging.incoming.".length());
                // SmallRye makes no copy of a channel with no consumer, and nothing would read its topic: refused
                int consumers = config.getOptionalValue(prefix + ".concurrency", Integer.class).orElse(1);
                if (consumers < 1) {
                    throw new IllegalStateException(prefix + ".concurrency=" + consumers + ": the projected channel "
                            + channel + " needs at least one consumer");
                }
                consumed.add(new Consumed(channel,
                        config.getOptionalValue(prefix + ".group.id", String.class).orElse("readside"),
                        config.getOptionalValue(prefix + ".topic", String.class).orElse(channel)));
            }
        }
        consumed.sort(Comparator.comparing(Consumed::channel));
        return consumed;
    }
}
