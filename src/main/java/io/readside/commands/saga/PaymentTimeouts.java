package io.readside.commands.saga;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import io.readside.projection.lag.LagMonitor;
import io.smallrye.mutiny.Uni;

/**
 * Orders with no payment result within {@code readside.saga.payment-timeout} become PAYMENT_TIMEOUT, judged by the
 * log's progress, not the wall clock: an order times out only once the payments consumer has applied everything
 * written to {@code payments} until its deadline ({@link LagMonitor#caughtUpAt}). A consumer that lags (an outage, a
 * backlog, a restart) delays time-outs instead of timing out orders whose result is waiting in the log.
 */
@ApplicationScoped
public class PaymentTimeouts {

    private static final Logger LOG = Logger.getLogger(PaymentTimeouts.class);
    private static final int BATCH = 500;

    @Inject
    PaymentSaga saga;
    @Inject
    LagMonitor lag;

    @ConfigProperty(name = "readside.saga.payment-timeout")
    Duration timeout;

    private volatile boolean stopping;

    void stop(@Observes ShutdownEvent event) {
        stopping = true; // the pool closes before the scheduler stops
    }

    @Scheduled(every = "${readside.saga.timeout-check-interval}", delayed = "${readside.saga.timeout-check-interval}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> timeOutOverdueOrders() {
        if (stopping) {
            return Uni.createFrom().voidItem();
        }
        Optional<Instant> resultsApplied = lag.caughtUpAt(PaymentsProjector.CHANNEL);
        if (resultsApplied.isEmpty()) {
            return Uni.createFrom().voidItem(); // not seen caught up since start: nothing can be judged overdue
        }
        return saga.timeOutOverdue(timeout, resultsApplied.get(), BATCH)
                .invoke(count -> {
                    if (count > 0) {
                        LOG.infof("%d orders had no payment result within %s: PAYMENT_TIMEOUT", count, timeout);
                    }
                })
                .onFailure().invoke(e -> LOG.warnf("checking payment timeouts failed (tried again at the next check): %s",
                        e.toString()))
                .onFailure().recoverWithNull().replaceWithVoid();
    }
}
