package io.readside.projection.outbox;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.readside.projection.tracing.BatchSpans;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import io.vertx.mutiny.pgclient.PgConnection;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgConnectOptions;

/**
 * Publishes the outbox: the unpublished rows in id order (a command's or the saga's message, a poll's payment
 * requests, or a projection's outputs of one poll for one topic), each record to its topic with its key (acks=all,
 * idempotent producer, lz4), then marks them published (a row of one message with the partition and offset it landed
 * at); a record the broker refuses for good is parked ({@link ParkedOutputs}) and the relay goes on. A batch is read in
 * short statements, published and acknowledged with no transaction open, and marked in one more short statement. One
 * relay publishes at a time across instances (a session-level advisory lock held from the read to the mark), which
 * keeps each key's rows in order. A crash after the broker has a batch and before the mark publishes that batch
 * again: at least once; the consumers' exactly-once effect absorbs the copies (an identical order version changes
 * nothing; a cancel carries its event id). Woken at commit by LISTEN/NOTIFY, and it polls in case a notification is
 * missed. Each row's record carries the trace context the row was written in ({@code traceparent}, {@code tracestate}
 * headers), and a batch is one span ({@link BatchSpans#published}).
 *
 * <p>This class runs the relay (its thread, the lock, the relay's session, the clean-up of expired rows); the batch
 * itself is {@link OutboxPublisher}'s, the LISTEN session {@link OutboxListener}'s.
 */
@ApplicationScoped
public class OutboxRelay {

    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);

    static final String CHANNEL = "readside_outbox";
    /** The relay's own session, named so that it can be told apart in pg_stat_activity. */
    static final String RELAY_APPLICATION_NAME = "readside-outbox-relay";
    static final String LISTEN_APPLICATION_NAME = "readside-outbox-listen";
    // One relay at a time: a session-level advisory lock on the relay's own connection (not from the pool), taken
    // before a batch is read and released once it is marked, so no transaction stays open while the broker answers.
    // Chosen over a lease row: PostgreSQL releases it by itself when the holder's session ends (crash, SIGKILL, lost
    // connection), so there is no expiry to tune against the producer's 15 s delivery time-out (too short: two relays
    // publish at once; too long: a crashed relay stalls the outbox), and no migration. The mark runs on the session
    // that holds the lock: if that session is gone, the mark fails and the batch is published again (at least once).
    // The key is the one the transaction-scoped lock used before: session and transaction locks on one key exclude
    // each other, so relays of the previous version, during a rolling upgrade, still take turns with these.
    static final String ONE_RELAY_AT_A_TIME = "SELECT pg_try_advisory_lock(hashtext('readside-outbox-relay'))";
    static final String NEXT_RELAY = "SELECT pg_advisory_unlock(hashtext('readside-outbox-relay'))";
    static final String MARK_PUBLISHED = """
            UPDATE outbox o SET published_at = now(), kafka_partition = r.kafka_partition, kafka_offset = r.kafka_offset
              FROM unnest($1::bigint[], $2::int[], $3::bigint[]) AS r(id, kafka_partition, kafka_offset)
             WHERE o.id = r.id""";
    /** A projection's rows (records) serve no token: kept only readside.outbox.outputs-retention (they are large). */
    static final String DELETE_PUBLISHED_OUTPUTS = """
            DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)
               AND event_type IN ('records', 'resent')""";
    static final String DELETE_PUBLISHED = """
            DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)""";
    static final String DELETE_IDEMPOTENCY_KEYS = """
            DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)""";

    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration DELETE_TIMEOUT = Duration.ofSeconds(60);
    private static final long MIN_BACK_OFF_MILLIS = 100;
    static final long MAX_BACK_OFF_MILLIS = 5_000;
    private static final Duration CLEAN_EVERY = Duration.ofMinutes(1);

    @Inject
    Pool pool;
    @Inject
    Vertx vertx;
    @Inject
    MeterRegistry registry;
    @Inject
    BatchSpans spans;

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
    @ConfigProperty(name = "readside.outbox.batch-bytes")
    int batchBytes;
    @ConfigProperty(name = "readside.outbox.poll-interval")
    Duration pollInterval;
    @ConfigProperty(name = "readside.outbox.retention")
    Duration retention;
    @ConfigProperty(name = "readside.outbox.outputs-retention")
    Duration outputsRetention;
    @ConfigProperty(name = "readside.commands.idempotency-retention")
    Duration idempotencyRetention;
    /** Fault injection for the delivery tests only: halt the JVM once this many rows are on the broker, unmarked. */
    @ConfigProperty(name = "readside.faults.halt-relay-after")
    Optional<Long> haltAfter;

    private final Semaphore wake = new Semaphore(0);
    private volatile boolean running;
    private Thread thread;
    private OutboxPublisher publisher;
    private OutboxListener listener;
    /** The relay thread's own session (the advisory lock's); null until needed and after a failure. */
    private PgConnection connection;
    private Instant lastClean = Instant.EPOCH;

    void start(@Observes StartupEvent event) {
        if (!enabled) {
            LOG.info("the outbox relay is off (readside.outbox.enabled=false)");
            return;
        }
        publisher = new OutboxPublisher(bootstrapServers, registry, spans, batchSize, batchBytes, () -> running,
                haltAfter);
        running = true;
        listener = new OutboxListener(vertx, connectOptions(LISTEN_APPLICATION_NAME), wake::release, () -> running,
                pollInterval);
        listener.listen();
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
        if (listener != null) {
            listener.close();
        }
        if (publisher != null) {
            publisher.close();
        }
    }

    private PgConnectOptions connectOptions(String applicationName) {
        return PgConnectOptions.fromUri(databaseUrl).setUser(databaseUser).setPassword(databasePassword)
                .addProperty("application_name", applicationName);
    }

    /** 100 ms, doubling, at most 5 s. */
    static long backOffMillis(int attempt) {
        return Math.min(MAX_BACK_OFF_MILLIS, MIN_BACK_OFF_MILLIS << Math.min(attempt, 16));
    }

    // --- publishing -----------------------------------------------------------------------------------------------

    private void run() {
        try {
            publishUntilStopped();
        } finally {
            publisher.close(); // what it still holds goes (or is dropped) before the lock is released
            closeConnection();
        }
    }

    private void publishUntilStopped() {
        int failures = 0;
        while (running) {
            try {
                int count = publishBatch();
                failures = 0;
                cleanUp(); // once a minute, busy or not
                if (count > 0) {
                    continue; // more may be waiting
                }
                wake.tryAcquire(pollInterval.toMillis(), TimeUnit.MILLISECONDS);
                wake.drainPermits();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (!running) {
                    return;
                }
                long backOff = backOffMillis(failures++);
                LOG.warnf("publishing the outbox failed, retrying in %d ms: %s", backOff, e.toString());
                try {
                    Thread.sleep(backOff);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** One batch; returns how many rows it published (0 also when another relay holds the lock). */
    int publishBatch() throws InterruptedException {
        try {
            PgConnection conn = connection();
            if (!sql(conn.query(ONE_RELAY_AT_A_TIME).execute()).iterator().next().getBoolean(0)) {
                return 0;
            }
            int count = publisher.publishHoldingTheLock(conn);
            sql(conn.query(NEXT_RELAY).execute());
            return count;
        } catch (RuntimeException | InterruptedException e) {
            // records of the failed batch may still be in the producers: they go before the lock does, so that no
            // send of this relay lands after the next relay's
            publisher.abandon();
            closeConnection(); // whatever state it is in, the end of the session releases the lock
            throw e;
        }
    }

    /** The first outbox id of the batch whose acknowledgements the relay is waiting for; 0 when it is not waiting. */
    long batchAwaitingBroker() {
        OutboxPublisher current = publisher;
        return current == null ? 0 : current.batchAwaitingBroker();
    }

    private PgConnection connection() {
        if (connection == null) {
            connection = sql(PgConnection.connect(io.vertx.mutiny.core.Vertx.newInstance(vertx),
                    connectOptions(RELAY_APPLICATION_NAME)))
                    .exceptionHandler(e -> LOG.debugf("the relay's connection: %s", e.getMessage()));
        }
        return connection;
    }

    private void closeConnection() {
        PgConnection conn = connection;
        connection = null;
        if (conn != null) {
            conn.close().subscribe().with(ok -> {
            }, e -> LOG.debugf("closing the relay's connection: %s", e.getMessage()));
        }
    }

    /** A statement on the relay's session, awaited at most 30 s. */
    static <T> T sql(Uni<T> statement) {
        return statement.await().atMost(QUERY_TIMEOUT);
    }

    /** Published rows and idempotency keys past their retention go, once a minute. */
    private void cleanUp() {
        if (Duration.between(lastClean, Instant.now()).compareTo(CLEAN_EVERY) < 0) {
            return;
        }
        lastClean = Instant.now();
        int[] deleted = deleteExpired(retention, idempotencyRetention);
        deleted[0] += pool.preparedQuery(DELETE_PUBLISHED_OUTPUTS).execute(Tuple.of(seconds(outputsRetention)))
                .await().atMost(DELETE_TIMEOUT).rowCount();
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
