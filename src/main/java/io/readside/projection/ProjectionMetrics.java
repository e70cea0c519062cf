package io.readside.projection;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.StartupEvent;
import io.readside.values.Quote;

/**
 * What the engine counts and logs per channel: records by outcome ({@code readside_records_total}), rejected ones by
 * reason, set-aside ones, how long a batch's transaction took and how old a record was when its change committed.
 */
@ApplicationScoped
public class ProjectionMetrics {

    private static final Logger LOG = Logger.getLogger(ProjectionMetrics.class);

    public enum Outcome {
        APPLIED, DUPLICATE, REJECTED
    }

    @Inject
    MeterRegistry registry;
    @Inject
    Config config;

    void registerMeters(@Observes StartupEvent event) {
        ProjectedChannels.of(config).forEach(consumed -> registerMeters(consumed.channel()));
    }

    /**
     * Every series of the record counters and timers of {@code channel}, at zero: an alert on {@code increase()} sees
     * the first rejected or set-aside record only if the series existed before it (Prometheus has no earlier sample
     * of a series that appears at 1), and a dashboard shows 0 rather than "no data".
     */
    public void registerMeters(String channel) {
        for (Outcome outcome : Outcome.values()) {
            registry.counter("readside.records", "channel", channel, "outcome", outcome.name().toLowerCase());
        }
        for (String reason : InvalidRecordException.REASONS) {
            registry.counter("readside.records.rejected", "channel", channel, "reason", reason);
        }
        for (DeadLetters.Delivery delivery : DeadLetters.Delivery.values()) {
            if (delivery != DeadLetters.Delivery.COPY) {
                registry.counter("readside.records.set.aside", "channel", channel, "dead_letter",
                        delivery.name().toLowerCase());
            }
        }
        timers(channel);
    }

    /** Counts records of a batch by outcome, and the latency of the applied ones. */
    void counted(String channel, Outcome outcome, List<? extends ConsumerRecord<?, ?>> records, long startNanos) {
        if (records.isEmpty()) {
            return;
        }
        registry.counter("readside.records", "channel", channel, "outcome", outcome.name().toLowerCase())
                .increment(records.size());
        if (outcome == Outcome.APPLIED) {
            Timers timers = timers(channel);
            for (ConsumerRecord<?, ?> record : records) {
                timers.observe(startNanos, record.timestamp());
            }
        }
    }

    /**
     * Counts and logs a record set aside (its dead letter sent, its position moved); one whose letter did not carry
     * it (kept in PostgreSQL) is logged at ERROR and counted in {@code readside_records_set_aside_total}.
     */
    void rejected(String channel, ConsumerRecord<?, ?> record, InvalidRecordException e, DeadLetters.Letter letter) {
        registry.counter("readside.records", "channel", channel, "outcome", "rejected").increment();
        registry.counter("readside.records.rejected", "channel", channel, "reason", e.reason()).increment();
        try (RecordLogContext context = RecordLogContext.of(record)) {
            LOG.warnf("%s: rejected %s (%s): %s; key=%s value=%s", channel, where(record), e.reason(),
                    e.getMessage(), preview(record.key()), preview(record.value()));
            if (letter != null && letter.setAside()) {
                registry.counter("readside.records.set.aside", "channel", channel, "dead_letter",
                        letter.delivery().name().toLowerCase()).increment();
                LOG.errorf("%s: %s could not go to the dead-letter topic as it is (%s; sent: %s); its bytes are in "
                        + "table set_aside_records", channel, where(record), letter.error(),
                        letter.delivery() == DeadLetters.Delivery.STUB ? "a stub" : "nothing");
            }
        }
    }

    /** A failed attempt at a batch (the database unreachable, a moved position, a fenced log): counted, logged. */
    void failed(String channel, String what, Throwable e) {
        registry.counter("readside.apply.failures", "channel", channel, "reason", e.getClass().getSimpleName())
                .increment();
        LOG.warnf("%s: applying %s failed, retrying: %s", channel, what, e.toString());
    }

    /** Per channel: how long an apply takes, and how old a record is when its change is committed. */
    private record Timers(Timer apply, Timer endToEnd) {
        void observe(long startNanos, long recordTimestamp) {
            apply.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
            if (recordTimestamp > 0) {
                endToEnd.record(Math.max(0, System.currentTimeMillis() - recordTimestamp), TimeUnit.MILLISECONDS);
            }
        }
    }

    private final Map<String, Timers> timers = new ConcurrentHashMap<>();

    private Timers timers(String channel) {
        return timers.computeIfAbsent(channel, c -> new Timers(
                Timer.builder("readside.apply.duration").tag("channel", c)
                        .description("The transaction that applied a record (a whole poll on a batch channel)")
                        .publishPercentileHistogram().register(registry),
                Timer.builder("readside.record.latency").tag("channel", c)
                        .description("From the record's timestamp to its change committed in the read model")
                        .publishPercentileHistogram().maximumExpectedValue(Duration.ofHours(1)).register(registry)));
    }

    /** {@code topic-partition@offset}, for logs. */
    public static String where(ConsumerRecord<?, ?> record) {
        return record.topic() + "-" + record.partition() + "@" + record.offset();
    }

    /** A key or value for the log: {@link Quote}d (at most 40 characters, invisible ones escaped), with its size. */
    private static String preview(Object data) {
        if (data == null) {
            return "null";
        }
        byte[] bytes = DeadLetters.bytes(data);
        // decode only what the quote can show (a multi-byte character cut at the end shows as U+FFFD)
        String text = new String(bytes, 0, Math.min(bytes.length, 4 * (Quote.MAX_CHARS + 1)), StandardCharsets.UTF_8);
        return Quote.of(text) + " (" + bytes.length + " bytes)";
    }
}
