package io.readside.projection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.impl.VertxInternal;

/**
 * Several consumers of a batch channel whose contexts SmallRye put on one event loop apply their polls on loops of
 * their own, while there are loops; a consumer alone on its loop stays on its context. Pure logic on a real Vert.x of
 * two event loops.
 */
class ConsumerLoopsTest {

    private final VertxInternal vertx = (VertxInternal) Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    private final ConsumerLoops loops = new ConsumerLoops();

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    void twoConsumersOnOneLoopApplyTheirPollsOnTwoLoops() throws Exception {
        ContextInternal first = consumerOn(0);
        ContextInternal second = consumerOn(0);

        String firstThread = appliedOn(first);
        String secondThread = appliedOn(second);

        assertNotEquals(firstThread, secondThread, "the second consumer's poll ran on the first one's loop");
        assertEquals(2, loops.loops());
        assertEquals(secondThread, appliedOn(second), "a consumer's next poll runs on the same loop");
        assertEquals(firstThread, appliedOn(first));
    }

    @Test
    void aConsumerAloneOnItsLoopStaysOnItsOwnContext() throws Exception {
        ContextInternal first = consumerOn(0);
        ContextInternal second = consumerOn(1);

        assertSame(first, contextOf(first), "the first consumer's own context");
        assertSame(second, contextOf(second), "the second consumer's own context");
        assertEquals(2, loops.loops());
    }

    @Test
    void moreConsumersThanLoopsShareTheLoops() throws Exception {
        ContextInternal first = consumerOn(0);
        ContextInternal second = consumerOn(0);
        ContextInternal third = consumerOn(0);

        String thirdThread = appliedOn(third);
        String firstThread = appliedOn(first);
        String secondThread = appliedOn(second);

        assertNotEquals(thirdThread, firstThread, "the second consumer seen got the free loop");
        assertEquals(thirdThread, secondThread, "the third seen found both loops taken: it stays on its own");
        assertEquals(2, loops.loops());
    }

    @Test
    void offAnEventLoopAPollRunsWhereItIs() {
        String thread = loops.onOwnLoop("orders", () -> Uni.createFrom().item(() -> Thread.currentThread().getName()))
                .await().atMost(java.time.Duration.ofSeconds(30));

        assertEquals(Thread.currentThread().getName(), thread);
        assertEquals(0, loops.loops(), "no consumer was seen");
    }

    /** A consumer's context as SmallRye makes one, on the event loop of that index. */
    private ContextInternal consumerOn(int index) {
        Iterator<EventExecutor> all = vertx.getEventLoopGroup().iterator();
        EventExecutor loop = all.next();
        for (int i = 0; i < index; i++) {
            loop = all.next();
        }
        return vertx.createEventLoopContext((EventLoop) loop, null, getClass().getClassLoader());
    }

    /** The thread a poll of {@code consumer} is applied on. */
    private String appliedOn(ContextInternal consumer) throws Exception {
        return applied(consumer, () -> Thread.currentThread().getName());
    }

    /** The context a poll of {@code consumer} is applied on (the root of its duplicate). */
    private ContextInternal contextOf(ContextInternal consumer) throws Exception {
        return applied(consumer, () -> ((ContextInternal) Vertx.currentContext()).unwrap());
    }

    private <T> T applied(ContextInternal consumer, java.util.function.Supplier<T> seen) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        consumer.duplicate().runOnContext(ignored -> loops.onOwnLoop("orders", () -> Uni.createFrom().item(seen))
                .subscribe().with(result::complete, result::completeExceptionally));
        return result.get(30, TimeUnit.SECONDS);
    }
}
