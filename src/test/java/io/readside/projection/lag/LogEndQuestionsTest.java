package io.readside.projection.lag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

import org.junit.jupiter.api.Test;

import io.readside.projection.lag.LagMonitor.LogEnd;
import io.smallrye.mutiny.Uni;

/**
 * Pure logic of the shared broker questions: what a failed question does to those who joined the next one, an
 * {@link Error} in the question, and shutting down with callers waiting. The broker is a function held on a latch,
 * so that the callers are known to have joined before it answers.
 */
class LogEndQuestionsTest {

    private static final Duration GENEROUS = Duration.ofSeconds(30);

    /** A broker that counts its questions and answers each once {@code release} opens, by {@code answer}. */
    private static final class HeldBroker implements BiFunction<String, Integer, LogEnd> {
        final CountDownLatch asked = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger questions = new AtomicInteger();
        final BiFunction<String, Integer, LogEnd> answer;

        HeldBroker(BiFunction<String, Integer, LogEnd> answer) {
            this.answer = answer;
        }

        @Override
        public LogEnd apply(String topic, Integer partition) {
            questions.incrementAndGet();
            asked.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            return answer.apply(topic, partition);
        }
    }

    @Test
    void aFailedQuestionFailsThoseWhoJoinedTheNextOneWithoutAskingAgain() throws Exception {
        HeldBroker broker = new HeldBroker((topic, partition) -> {
            throw new IllegalStateException("the broker did not say within PT2S where orders-0 ends");
        });
        try (LogEndQuestions questions = new LogEndQuestions(broker)) {
            Uni<LogEnd> first = questions.endBeyond("orders", 0, 5).memoize().indefinitely();
            first.subscribe().with(end -> { }, failure -> { });
            assertTrue(broker.asked.await(GENEROUS.toSeconds(), TimeUnit.SECONDS));
            Uni<LogEnd> joined = questions.endBeyond("orders", 0, 7).memoize().indefinitely();
            joined.subscribe().with(end -> { }, failure -> { });
            broker.release.countDown();

            assertFailsWith(first, "did not say within");
            assertFailsWith(joined, "did not say within");
            assertEquals(1, broker.questions.get(), "the callers who joined shared the failure: no second question");
        }
    }

    @Test
    void anErrorInAQuestionFailsItsCallersAndLeavesThePartitionFreeForTheNext() {
        AtomicInteger calls = new AtomicInteger();
        BiFunction<String, Integer, LogEnd> broker = (topic, partition) -> {
            if (calls.incrementAndGet() == 1) {
                throw new NoClassDefFoundError("org/apache/kafka/clients/admin/ListOffsetsOptions");
            }
            return new LogEnd(topic, 3, partition, true, 100);
        };
        try (LogEndQuestions questions = new LogEndQuestions(broker)) {
            assertFailsWith(questions.endBeyond("orders", 1, 5), "ListOffsetsOptions");
            LogEnd next = questions.endBeyond("orders", 1, 5).await().atMost(GENEROUS);
            assertEquals(100, next.endOffset(), "the next caller was answered by a question of its own");
            assertEquals(2, calls.get());
        }
    }

    @Test
    void closingFailsTheCallersStillWaiting() throws Exception {
        HeldBroker broker = new HeldBroker((topic, partition) -> new LogEnd(topic, 3, partition, true, 100));
        LogEndQuestions questions = new LogEndQuestions(broker);
        Uni<LogEnd> asking = questions.endBeyond("orders", 2, 5).memoize().indefinitely();
        asking.subscribe().with(end -> { }, failure -> { });
        assertTrue(broker.asked.await(GENEROUS.toSeconds(), TimeUnit.SECONDS));
        Uni<LogEnd> joined = questions.endBeyond("orders", 2, 6).memoize().indefinitely();
        joined.subscribe().with(end -> { }, failure -> { });

        questions.close();

        assertFailsWith(asking, "shutting down");
        assertFailsWith(joined, "shutting down");
        assertFailsWith(questions.endBeyond("orders", 2, 1), "shutting down");
        broker.release.countDown();
    }

    private static void assertFailsWith(Uni<LogEnd> answer, String text) {
        Throwable failure = assertThrows(Throwable.class, () -> answer.await().atMost(GENEROUS));
        String message = String.valueOf(failure.getMessage());
        assertTrue(message.contains(text), () -> "expected a failure saying '" + text + "', got " + failure);
    }
}
