package io.readside.projection.outbox;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import org.jboss.logging.Logger;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;

/**
 * The relay's LISTEN on {@value OutboxRelay#CHANNEL}: each notification (an outbox row committed) wakes the relay at
 * once. Its own PostgreSQL session ({@value OutboxRelay#LISTEN_APPLICATION_NAME}), reconnected with back-off
 * ({@link OutboxRelay#backOffMillis}: 100 ms doubling to 5 s) after a failed connect or a lost connection; the relay
 * polls every {@code readside.outbox.poll-interval} meanwhile. A failure streak is logged at WARN once, then DEBUG.
 * Created and closed by {@link OutboxRelay}; logs under its category.
 */
final class OutboxListener {

    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);

    private final Vertx vertx;
    private final PgConnectOptions options;
    private final Runnable wake;
    private final BooleanSupplier running;
    private final Duration pollInterval;
    private final AtomicBoolean listenFailing = new AtomicBoolean();
    private PgSubscriber subscriber;
    private volatile long listenRetryTimer = -1;

    /**
     * @param options the listening session's connection (application name included)
     * @param wake called on every notification, and once LISTEN is (again) in place
     * @param running false once the relay stops: no connection is (re)tried after that
     * @param pollInterval the relay's poll interval, for the log messages only
     */
    OutboxListener(Vertx vertx, PgConnectOptions options, Runnable wake, BooleanSupplier running,
            Duration pollInterval) {
        this.vertx = vertx;
        this.options = options;
        this.wake = wake;
        this.running = running;
        this.pollInterval = pollInterval;
    }

    /** Connects and LISTENs, in the background (retried until {@link #close}). */
    void listen() {
        subscriber = PgSubscriber.subscriber(vertx, options).reconnectPolicy(this::reconnectAfterLoss);
        subscriber.channel(OutboxRelay.CHANNEL).subscribeHandler(v -> listening()).handler(payload -> wake.run());
        connectListener(0);
    }

    /** Cancels a pending retry and closes the session (call after the relay stopped running). */
    void close() {
        if (subscriber != null) {
            vertx.cancelTimer(listenRetryTimer);
            subscriber.close();
        }
    }

    /**
     * The first connection. PgSubscriber applies its reconnect policy only to a connection it had: a failed first
     * connect() is not retried, and the subscriber stays open without a connection (a second connect() does nothing
     * until close()). So a failed first attempt closes it and tries again, on the same back-off as a reconnection.
     */
    private void connectListener(int attempt) {
        if (!running.getAsBoolean()) {
            return;
        }
        subscriber.connect().onFailure(e -> {
            listenFailed("LISTEN %s cannot connect (%s): retrying with back-off up to %d ms, polling every %s meanwhile",
                    e.getMessage());
            subscriber.close();
            if (running.getAsBoolean()) {
                listenRetryTimer = vertx.setTimer(OutboxRelay.backOffMillis(attempt),
                        id -> connectListener(attempt + 1));
            }
        });
    }

    /** PgSubscriber's reconnect policy (a connection it had was lost): how long to wait, or -1 to stop at shutdown. */
    private long reconnectAfterLoss(int retries) {
        if (!running.getAsBoolean()) {
            return -1;
        }
        if (retries == 0) {
            listenFailed("LISTEN %s lost its connection (%s): reconnecting with back-off up to %d ms, polling every %s "
                    + "meanwhile", "closed by the server or the network");
        }
        return OutboxRelay.backOffMillis(retries);
    }

    /** LISTEN is in place, after the first connection or a reconnection. */
    private void listening() {
        if (!running.getAsBoolean()) { // connected after close(): PgSubscriber does not check; its connection goes
            io.vertx.pgclient.PgConnection late = subscriber.actualConnection();
            if (late != null) {
                late.close();
            }
            return;
        }
        listenFailing.set(false);
        LOG.infof("LISTEN %s in place: the relay is woken at commit", OutboxRelay.CHANNEL);
        wake.run(); // rows committed while nothing listened are published now, not at the next poll
    }

    /** WARN once per streak of failures, DEBUG for the rest of it. */
    private void listenFailed(String format, String cause) {
        if (listenFailing.compareAndSet(false, true)) {
            LOG.warnf(format, OutboxRelay.CHANNEL, cause, OutboxRelay.MAX_BACK_OFF_MILLIS, pollInterval);
        } else {
            LOG.debugf(format, OutboxRelay.CHANNEL, cause, OutboxRelay.MAX_BACK_OFF_MILLIS, pollInterval);
        }
    }
}
