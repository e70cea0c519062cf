package io.readside.commands.saga;

import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;

/** Orders with no payment result within {@code readside.saga.payment-timeout} become PAYMENT_TIMEOUT. */
@ApplicationScoped
public class PaymentTimeouts {

    private static final Logger LOG = Logger.getLogger(PaymentTimeouts.class);
    private static final int BATCH = 500;

    @Inject
    PaymentSaga saga;

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
        return saga.timeOutOverdue(timeout, BATCH)
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
