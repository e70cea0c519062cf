package io.readside.commands.outbox;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Transaction;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;

/**
 * Publishes the outbox: the unpublished rows in id order, a batch per transaction, each to its topic with its key
 * (acks=all, idempotent producer, lz4), then marks them published with the partition and offset they landed at. One
 * relay publishes at a time across instances (a transaction-scoped advisory lock), which keeps each key's rows in
 * order. A crash after the broker has a batch and before the mark publishes that batch again: at least once; the
 * consumers' exactly-once effect absorbs the copies (an identical order version changes nothing; a cancel carries
 * its event id). Woken at commit by LISTEN/NOTIFY, and it polls in case a notification is missed.
 */
@ApplicationScoped
public class OutboxRelay {

    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);

    static final String CHANNEL = "readside_outbox";
    static final String ONE_RELAY_AT_A_TIME = "SELECT pg_try_advisory_xact_lock(hashtext('readside-outbox-relay'))";
    static final String UNPUBLISHED = """
            SELECT id, topic, message_key, payload, created_at FROM outbox
             WHERE published_at IS NULL ORDER BY id LIMIT $1""";
    static final String MARK_PUBLISHED = """
            UPDATE outbox o SET published_at = now(), kafka_partition = r.kafka_partition, kafka_offset = r.kafka_offset
              FROM unnest($1::bigint[], $2::int[], $3::bigint[]) AS r(id, kafka_partition, kafka_offset)
             WHERE o.id = r.id""";
    static final String DELETE_PUBLISHED = """
            DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)""";
    static final String DELETE_IDEMPOTENCY_KEYS = """
            DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)""";

    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration DELETE_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration MAX_BACK_OFF = Duration.ofSeconds(5);
    private static final Duration CLEAN_EVERY = Duration.ofMinutes(1);

    @Inject
    Pool pool;
    @Inject
    Vertx vertx;
    @Inject
    MeterRegistry registry;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @ConfigProperty(name = "quarkus.datasource.reactive.url")
    String databaseUrl;
    @ConfigProperty(name = "quarkus.datasource.username")
    String databaseUser;
    @ConfigProperty(name = "quarkus.datasource.password")
    String databasePassword;
    @ConfigProperty(name = "readside.outbox.enabled")
    boolean enabled;
    @ConfigProperty(name = "readside.outbox.batch-size")
    int batchSize;
    @ConfigProperty(name = "readside.outbox.poll-interval")
    Duration pollInterval;
    @ConfigProperty(name = "readside.outbox.retention")
    Duration retention;
    @ConfigProperty(name = "readside.commands.idempotency-retention")
    Duration idempotencyRetention;
    /** Fault injection for the delivery tests only: halt the JVM once this many rows are on the broker, unmarked. */
    @ConfigProperty(name = "readside.faults.halt-relay-after")
    Optional<Long> haltAfter;

    private final Semaphore wake = new Semaphore(0);
    private final AtomicLong oldestUnpublishedMillis = new AtomicLong();
    private volatile boolean running;
    private Thread thread;
    private KafkaProducer<String, byte[]> producer;
    private PgSubscriber subscriber;
    private Counter published;
    private Timer delay;
    private long publishedTotal;
    private Instant lastClean = Instant.EPOCH;

    void start(@Observes StartupEvent event) {
        if (!enabled) {
            LOG.info("the outbox relay is off (readside.outbox.enabled=false)");
            return;
        }
        published = Counter.builder("readside.outbox.published").description("Outbox rows published")
                .register(registry);
        delay = Timer.builder("readside.outbox.delay")
                .description("From an outbox row's commit to the broker's acknowledgement")
                .publishPercentileHistogram().register(registry);
        Gauge.builder("readside.outbox.oldest.unpublished.seconds", oldestUnpublishedMillis, ms -> ms.get() / 1000.0)
                .description("Age of the oldest outbox row not yet published (0: none)").register(registry);
        producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.CLIENT_ID_CONFIG, "readside-outbox-relay",
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4",
                ProducerConfig.LINGER_MS_CONFIG, 1,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000),
                new StringSerializer(), new ByteArraySerializer());
        listen();
        running = true;
        thread = new Thread(this::run, "readside-outbox-relay");
        thread.setDaemon(true);
        thread.start();
    }

    void stop(@Observes ShutdownEvent event) {
        running = false;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (subscriber != null) {
            subscriber.close();
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    private void listen() {
        PgConnectOptions options = PgConnectOptions.fromUri(databaseUrl).setUser(databaseUser)
                .setPassword(databasePassword);
        subscriber = PgSubscriber.subscriber(vertx, options).reconnectPolicy(retries -> 1_000L);
        subscriber.channel(CHANNEL).handler(payload -> wake.release());
        subscriber.connect().onFailure(e -> LOG.warnf(
                "LISTEN %s failed (%s): the relay polls every %s instead", CHANNEL, e.getMessage(), pollInterval));
    }

    private void run() {
        Duration backOff = Duration.ofMillis(100);
        while (running) {
            try {
                int count = publishBatch();
                backOff = Duration.ofMillis(100);
                if (count >= batchSize) {
                    continue; // more waiting
                }
                cleanUp();
                wake.tryAcquire(pollInterval.toMillis(), TimeUnit.MILLISECONDS);
                wake.drainPermits();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (!running) {
                    return;
                }
                LOG.warnf("publishing the outbox failed, retrying in %d ms: %s", backOff.toMillis(), e.toString());
                try {
                    Thread.sleep(backOff.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
                backOff = backOff.multipliedBy(2).compareTo(MAX_BACK_OFF) > 0 ? MAX_BACK_OFF : backOff.multipliedBy(2);
            }
        }
    }

    /** One batch in one transaction; returns how many rows it published (0 also when another relay holds the lock). */
    int publishBatch() throws InterruptedException {
        SqlConnection conn = pool.getConnection().await().atMost(QUERY_TIMEOUT);
        try {
            Transaction tx = conn.begin().await().atMost(QUERY_TIMEOUT);
            boolean ours = conn.query(ONE_RELAY_AT_A_TIME).execute().await().atMost(QUERY_TIMEOUT)
                    .iterator().next().getBoolean(0);
            if (!ours) {
                tx.rollback().await().atMost(QUERY_TIMEOUT);
                return 0;
            }
            RowSet<Row> rows = conn.preparedQuery(UNPUBLISHED).execute(Tuple.of(batchSize))
                    .await().atMost(QUERY_TIMEOUT);
            if (rows.size() == 0) {
                oldestUnpublishedMillis.set(0);
                tx.rollback().await().atMost(QUERY_TIMEOUT);
                return 0;
            }
            List<Long> ids = new ArrayList<>(rows.size());
            List<Instant> created = new ArrayList<>(rows.size());
            List<Future<RecordMetadata>> sends = new ArrayList<>(rows.size());
            for (Row row : rows) {
                ids.add(row.getLong("id"));
                created.add(row.getOffsetDateTime("created_at").toInstant());
                ProducerRecord<String, byte[]> record = new ProducerRecord<>(row.getString("topic"),
                        row.getString("message_key"), row.getString("payload").getBytes(StandardCharsets.UTF_8));
                record.headers().add("readside-outbox-id",
                        Long.toString(row.getLong("id")).getBytes(StandardCharsets.UTF_8));
                sends.add(producer.send(record));
            }
            oldestUnpublishedMillis.set(Math.max(0, System.currentTimeMillis() - created.get(0).toEpochMilli()));
            Integer[] partitions = new Integer[sends.size()];
            Long[] offsets = new Long[sends.size()];
            for (int i = 0; i < sends.size(); i++) {
                RecordMetadata at = acknowledged(sends.get(i));
                partitions[i] = at.partition();
                offsets[i] = at.offset();
            }
            publishedTotal += ids.size();
            if (haltAfter.isPresent() && publishedTotal >= haltAfter.get()) {
                LOG.warnf("fault injection: halting with %d rows on the broker and not marked published", ids.size());
                Runtime.getRuntime().halt(99);
            }
            conn.preparedQuery(MARK_PUBLISHED).execute(Tuple.of(ids.toArray(new Long[0]), partitions, offsets))
                    .await().atMost(QUERY_TIMEOUT);
            tx.commit().await().atMost(QUERY_TIMEOUT);
            Instant now = Instant.now();
            published.increment(ids.size());
            for (Instant at : created) {
                delay.record(Duration.between(at, now).toNanos(), TimeUnit.NANOSECONDS);
            }
            return ids.size();
        } finally {
            conn.close().await().atMost(QUERY_TIMEOUT);
        }
    }

    private static RecordMetadata acknowledged(Future<RecordMetadata> send) throws InterruptedException {
        try {
            return send.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("the broker did not take an outbox row", e.getCause());
        }
    }

    /** Published rows and idempotency keys past their retention go, once a minute. */
    private void cleanUp() {
        if (Duration.between(lastClean, Instant.now()).compareTo(CLEAN_EVERY) < 0) {
            return;
        }
        lastClean = Instant.now();
        int[] deleted = deleteExpired(retention, idempotencyRetention);
        if (deleted[0] + deleted[1] > 0) {
            LOG.debugf("deleted %d published outbox rows and %d idempotency keys past their retention", deleted[0],
                    deleted[1]);
        }
    }

    /** Deletes published rows older than {@code rows} and idempotency keys older than {@code keys}; how many of each. */
    int[] deleteExpired(Duration rows, Duration keys) {
        return new int[] {
                pool.preparedQuery(DELETE_PUBLISHED).execute(Tuple.of(seconds(rows)))
                        .await().atMost(DELETE_TIMEOUT).rowCount(),
                pool.preparedQuery(DELETE_IDEMPOTENCY_KEYS).execute(Tuple.of(seconds(keys)))
                        .await().atMost(DELETE_TIMEOUT).rowCount() };
    }

    private static double seconds(Duration duration) {
        return duration.toMillis() / 1000.0;
    }
}
