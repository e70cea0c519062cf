package io.readside.orders;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.readside.projection.BrokerAdmin;
import io.smallrye.health.api.Wellness;

/**
 * Whether the broker bounds how far ahead of its own clock an order's timestamp can be. The skew check
 * ({@link OrdersProjector#parse}) bounds an order's event time by its record's timestamp, so that a replay decides the
 * same; with {@code CreateTime} the producer sets that timestamp too, and only the topic's
 * {@code message.timestamp.after.max.ms} (before Kafka 3.6: {@code message.timestamp.difference.max.ms}) keeps it
 * near the broker's clock. A bound above {@code readside.orders.max-clock-skew} (Kafka 4's default is an hour, older
 * brokers and many managed clusters have none) lets one producer whose clock runs ahead move its partition's stream
 * time and close the revenue windows early for every later order: this is then {@code readside-orders-timestamps}
 * DOWN on {@code /q/health/well}, {@code readside_orders_timestamps_unbounded} 1 (alert
 * {@code ReadsideOrdersTimestampsUnbounded}) and a WARN line. The topic's configuration is asked once a minute.
 */
@Wellness
@ApplicationScoped
public class OrdersTimestampBound implements HealthCheck {

    private static final Logger LOG = Logger.getLogger(OrdersTimestampBound.class);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);
    private static final String TYPE = "message.timestamp.type";
    private static final String AFTER_MAX = "message.timestamp.after.max.ms";
    private static final String DIFFERENCE_MAX = "message.timestamp.difference.max.ms";
    /** The brokers' default of both bounds before Kafka 4: none. */
    private static final String NO_BOUND = String.valueOf(Long.MAX_VALUE);

    /** What the topic's configuration says, or why it could not be asked. */
    record Judged(boolean known, boolean bounded, String why, int missing) {

        /** {@code missing}: how many answers in a row said the topic does not exist. */
        Judged(boolean known, boolean bounded, String why) {
            this(known, bounded, why, 0);
        }
    }

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @ConfigProperty(name = "mp.messaging.incoming." + OrdersProjector.CHANNEL + ".topic")
    String topic;
    @ConfigProperty(name = "readside.orders.max-clock-skew")
    Duration maxClockSkew;
    @Inject
    MeterRegistry registry;

    private volatile Judged latest = new Judged(false, true, "not asked yet");
    private BrokerAdmin admin;
    private volatile boolean closed;

    @PostConstruct
    void register() {
        admin = new BrokerAdmin(bootstrapServers, "readside-orders-timestamps", CALL_TIMEOUT);
        Gauge.builder("readside.orders.timestamps.unbounded", this,
                bound -> !bound.latest.known() ? Double.NaN : bound.latest.bounded() ? 0 : 1)
                .description("1 while topic orders lets a producer's timestamp lead the broker's clock by more than"
                        + " readside.orders.max-clock-skew, 0 while it does not; NaN until the broker said")
                .register(registry);
    }

    /** Asks the broker now; the answer is what health and the gauge show until the next. Blocks. */
    @Scheduled(every = "60s", delayed = "10s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    synchronized void check() {
        if (closed) {
            return;
        }
        Judged before = latest;
        Judged now;
        try {
            now = judge(topicConfig());
        } catch (ExecutionException e) {
            now = failed(e.getCause(), before);
        } catch (TimeoutException | KafkaException e) { // KafkaException: the client could not even be created
            now = failed(e, before);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (IllegalStateException e) { // closed: shutting down
            return;
        }
        latest = now;
        if (!now.bounded() && (before.bounded() || now.known() != before.known())) {
            LOG.warnf("topic %s: %s", topic, now.why());
        } else if (now.known() && now.bounded() && !before.bounded()) {
            LOG.infof("topic %s: %s", topic, now.why());
        }
    }

    /**
     * What a failed question says (pure): a topic that does not exist yet is not judged; one that was seen and that
     * two answers in a row say is gone is reported deleted (unknown to the gauge, DOWN in health); a broker that
     * refuses to say (no DescribeConfigs permission, as on managed clusters) leaves the bound unconfirmed, which is
     * reported as unbounded; anything else (a broker down or slow) keeps what was last known, with the reason.
     */
    Judged failed(Throwable cause, Judged before) {
        if (cause instanceof UnknownTopicOrPartitionException) {
            if (!before.known() && before.missing() == 0) {
                return new Judged(false, true, "topic " + topic + " does not exist yet");
            }
            if (before.missing() == 0) { // once may be a broker whose metadata is not loaded yet: asked again first
                return new Judged(before.known(), before.bounded(), "the broker said topic " + topic + " does not"
                        + " exist; asked again at the next check" + LAST_KNOWN + lastKnown(before), 1);
            }
            return new Judged(false, false, "topic " + topic + " was deleted: no bound can be confirmed (a topic"
                    + " created again by a producer gets the broker's defaults)", before.missing() + 1);
        }
        if (cause instanceof AuthorizationException) {
            return new Judged(true, false, "the broker refused to describe the topic's configuration (" + cause
                    + "): whether producers' timestamps are bounded cannot be confirmed; allow DescribeConfigs on"
                    + " topic " + topic + " to the service's principal");
        }
        return new Judged(before.known(), before.bounded(), "the broker could not say (" + cause + ")"
                + (before.known() || before.missing() > 0 ? LAST_KNOWN + lastKnown(before) : ""), before.missing());
    }

    private static final String LAST_KNOWN = "; last known: ";

    /** The judgement a reason carries on: the last one itself, never a chain of failures quoting each other. */
    private static String lastKnown(Judged before) {
        int at = before.why().lastIndexOf(LAST_KNOWN);
        return at < 0 ? before.why() : before.why().substring(at + LAST_KNOWN.length());
    }

    /**
     * The judgement of a topic's configuration (pure). As the broker (3.6 to 3.9) does, the after-bound counts when
     * set, the older two-way bound otherwise; Kafka 4 has only the after-bound.
     */
    Judged judge(Config config) {
        ConfigEntry type = config.get(TYPE);
        if (type != null && "LogAppendTime".equals(type.value())) {
            return new Judged(true, true, TYPE + "=LogAppendTime: the broker's clock stamps every order");
        }
        ConfigEntry after = config.get(AFTER_MAX);
        ConfigEntry difference = config.get(DIFFERENCE_MAX);
        boolean afterSet = after != null && after.value() != null && !after.value().equals(NO_BOUND);
        ConfigEntry bound = afterSet || difference == null || difference.value() == null ? after : difference;
        long aheadMs = bound == null ? Long.MAX_VALUE : milliseconds(bound.value());
        String name = bound == null ? AFTER_MAX : bound.name();
        if (aheadMs <= maxClockSkew.toMillis()) {
            return new Judged(true, true, name + "=" + aheadMs + ": an order's timestamp is at most " + aheadMs
                    + " ms ahead of the broker's clock, its event time at most " + maxClockSkew
                    + " (readside.orders.max-clock-skew) more");
        }
        String lead = aheadMs == Long.MAX_VALUE ? "any time" : Duration.ofMillis(aheadMs).toString();
        return new Judged(true, false, name + (bound == null ? " unset" : "=" + aheadMs) + ": a producer's"
                + " timestamp may lead the broker's clock by " + lead + ", so one producer whose clock runs ahead"
                + " can close its partition's revenue windows early; set " + AFTER_MAX + " to at most "
                + maxClockSkew.toMillis() + " (readside.orders.max-clock-skew) or " + TYPE + "=LogAppendTime on it");
    }

    /** A bound as the broker says it; one that is not a number of milliseconds bounds nothing. */
    private static long milliseconds(String value) {
        try {
            long ms = Long.parseLong(String.valueOf(value).trim());
            return ms < 0 ? Long.MAX_VALUE : ms;
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    private Config topicConfig() throws InterruptedException, ExecutionException, TimeoutException {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return admin.get().describeConfigs(List.of(resource)).all()
                .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(resource);
    }

    @Override
    public HealthCheckResponse call() {
        Judged now = latest;
        HealthCheckResponseBuilder response = HealthCheckResponse.named("readside-orders-timestamps")
                .status(now.bounded()).withData(topic, now.why());
        return response.build();
    }

    @PreDestroy
    void close() {
        closed = true;
        admin.close();
    }
}
