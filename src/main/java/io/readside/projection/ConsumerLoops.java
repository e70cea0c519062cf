package io.readside.projection;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.impl.VertxInternal;

/**
 * Each consumer of a batch channel on an event loop of its own, as long as there are loops to go round. SmallRye gives
 * each consumer ({@code mp.messaging.incoming.<channel>.concurrency} copies) a context on the next event loop in turn,
 * among every other context created at start, so two consumers may share a loop while another idles: a poll is then
 * applied on a context of the engine's choosing, on a loop no other consumer has. Every poll of one consumer runs on
 * the same loop (SmallRye hands a consumer its next poll once the previous one completed, so their order is kept),
 * and the database's replies come back to it. A consumer alone on its loop stays on its own context.
 */
final class ConsumerLoops {

    private static final Logger LOG = Logger.getLogger(ConsumerLoops.class);

    private final Map<ContextInternal, ContextInternal> own = new ConcurrentHashMap<>();

    /**
     * {@code work} subscribed on the calling consumer's own loop; called on anything but an event loop (a test, a
     * replay), it runs where it is.
     */
    <T> Uni<T> onOwnLoop(String channel, Supplier<Uni<? extends T>> work) {
        Context current = Vertx.currentContext();
        if (!(current instanceof ContextInternal context) || !context.isEventLoopContext()) {
            return Uni.createFrom().deferred(work);
        }
        ContextInternal consumer = context.unwrap();
        ContextInternal picked = own.get(consumer);
        if (picked == null) {
            picked = ownOf(channel, consumer);
        }
        if (picked == consumer) {
            return Uni.createFrom().deferred(work);
        }
        ContextInternal next = picked.duplicate(); // as SmallRye's: each poll its own locals (tracing)
        return Uni.createFrom().deferred(work).runSubscriptionOn(task -> next.runOnContext(ignored -> task.run()));
    }

    /** How many event loops the consumers seen so far are spread over. */
    int loops() {
        return taken().size();
    }

    /** The event loops the consumers seen so far apply on. */
    private Set<EventLoop> taken() {
        Set<EventLoop> loops = new HashSet<>();
        own.values().forEach(context -> loops.add(context.nettyEventLoop()));
        return loops;
    }

    /** The consumer's own context if no other consumer is on its loop, else one on a loop none is on. */
    private synchronized ContextInternal ownOf(String channel, ContextInternal consumer) {
        ContextInternal picked = own.get(consumer);
        if (picked == null) {
            picked = pick(channel, consumer);
            own.put(consumer, picked);
        }
        return picked;
    }

    private ContextInternal pick(String channel, ContextInternal consumer) {
        Set<EventLoop> taken = taken();
        if (!taken.contains(consumer.nettyEventLoop())) {
            return consumer;
        }
        VertxInternal vertx = consumer.owner();
        for (EventExecutor loop : vertx.getEventLoopGroup()) {
            if (loop instanceof EventLoop eventLoop && !taken.contains(eventLoop)) {
                LOG.infof("a consumer of %s was given another consumer's event loop: its polls are applied on a free"
                        + " one", channel);
                return vertx.createEventLoopContext(eventLoop, null, consumer.classLoader());
            }
        }
        LOG.infof("a consumer of %s shares its event loop with another consumer: there are more consumers than"
                + " event loops (quarkus.vertx.event-loops-pool-size)", channel);
        return consumer;
    }
}
