package io.readside.projection.lag;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

/**
 * The per-partition lag gauges, tagged {@code group}, {@code topic}, {@code partition}:
 * {@code readside.consumer.lag.records} (records) and {@code readside.consumer.lag.seconds} (seconds, 0 when caught
 * up). Registered at a partition's first measurement; each then reads that partition's latest one.
 */
final class LagGauges {

    private final MeterRegistry registry;
    private final Map<String, AtomicReference<PartitionLag>> gauges = new ConcurrentHashMap<>();

    LagGauges(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Makes {@code lag} what its partition's gauges read (registering them the first time). */
    void publish(PartitionLag lag) {
        String key = LagMonitor.key(lag.group(), lag.topic(), lag.partition());
        AtomicReference<PartitionLag> holder = gauges.get(key);
        if (holder == null) {
            AtomicReference<PartitionLag> created = new AtomicReference<>(lag);
            holder = gauges.putIfAbsent(key, created);
            if (holder == null) {
                holder = created;
                Tags tags = Tags.of("group", lag.group(), "topic", lag.topic(), "partition",
                        Integer.toString(lag.partition()));
                Gauge.builder("readside.consumer.lag.records", created, h -> h.get().lagRecords()).tags(tags)
                        .description("Records in the log not yet applied to the read model").register(registry);
                Gauge.builder("readside.consumer.lag.seconds", created, h -> h.get().lagSeconds()).tags(tags)
                        .description("Age of the oldest record not yet applied; 0 when caught up")
                        .register(registry);
            }
        }
        holder.set(lag);
    }
}
