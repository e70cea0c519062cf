package io.readside.projection;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import org.eclipse.microprofile.config.Config;

/**
 * The incoming channels on the Kafka connector that project into PostgreSQL (they resume from the stored positions:
 * {@link PositionSeeker}), with their group and topic, read from the configuration. Dev mode's simulated payment
 * service is not one, nor are the in-memory channels of the fast test tier. Its consumers are checked
 * ({@link #checkConsumers}).
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
                Consumed each = new Consumed(channel,
                        config.getOptionalValue(prefix + ".group.id", String.class).orElse("readside"),
                        config.getOptionalValue(prefix + ".topic", String.class).orElse(channel));
                checkConsumers(config, prefix, each);
                consumed.add(each);
            }
        }
        consumed.sort(Comparator.comparing(Consumed::channel));
        return consumed;
    }

    /**
     * The channel's consumers ({@code concurrency}, SmallRye's copies {@code <channel>$1} ...): at least one (SmallRye
     * runs one for 0, which an operator may have meant as "off"), and every copy in the channel's group and on its
     * topic. A copy in another group would apply every record again under other positions, unmeasured by the lag
     * monitor; a copy on another topic would project records that are not the channel's. Refused: read at start, this
     * stops the service with the key to fix.
     */
    private static void checkConsumers(Config config, String prefix, Consumed channel) {
        int consumers = config.getOptionalValue(prefix + ".concurrency", Integer.class).orElse(1);
        if (consumers < 1) {
            throw new IllegalStateException(prefix + ".concurrency=" + consumers + ": a projected channel has at least "
                    + "one consumer (SmallRye runs one for " + consumers + "); set 1 or more");
        }
        for (int copy = 1; consumers > 1 && copy <= consumers; copy++) {
            String copyPrefix = prefix + "$" + copy;
            for (Map.Entry<String, String> key : Map.of("group.id", channel.group(), "topic", channel.topic())
                    .entrySet()) {
                String value = config.getOptionalValue(copyPrefix + "." + key.getKey(), String.class)
                        .orElse(key.getValue());
                if (!value.equals(key.getValue())) {
                    throw new IllegalStateException(copyPrefix + "." + key.getKey() + " differs from " + prefix + "."
                            + key.getKey() + ": every consumer of a projected channel has its group and topic");
                }
            }
        }
    }
}
