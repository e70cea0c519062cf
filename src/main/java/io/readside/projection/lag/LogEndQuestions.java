package io.readside.projection.lag;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.stream.Stream;

import org.apache.kafka.common.TopicPartition;

import io.readside.projection.lag.LagMonitor.LogEnd;
import io.smallrye.mutiny.Uni;

/**
 * The broker's log end offsets asked for consistency tokens beyond the last lag measurement, as shared work: at most
 * one question per partition is asked at a time, on threads of their own ({@code readside-broker-questions}, never the
 * worker pool that serves requests), and every caller that needs an answer while one is asked joins the next one.
 * An answer that already shows an offset to exist is kept (log ends only grow), so tokens below it ask nothing; an
 * offset at or past the known end is only ever judged by a question asked after the caller arrived, so that a record
 * produced a moment ago is never refused on an older answer.
 *
 * <p>A question that fails (the broker down or slow) fails the callers who joined the next one too: they arrived
 * while it was asked, and asking again at once would only queue one broker time-out behind another. Once closed,
 * every waiting caller is failed, and new ones are refused.
 *
 * <p>Entries exist only while a question is asked or for partitions that exist: a token naming partition 2,000,000
 * leaves nothing behind.
 */
final class LogEndQuestions implements AutoCloseable {

    /** Questions waiting for a thread; each is one partition's, so at most one per partition asked about at once. */
    private static final int QUEUED = 1_024;

    private final Map<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();
    private final ThreadPoolExecutor threads;
    private volatile BiFunction<String, Integer, LogEnd> broker;
    private volatile boolean closed;

    /** One partition's: the latest answer that saw it exist, the question being asked, the one that callers join. */
    private static final class Partition {
        LogEnd known;
        CompletableFuture<LogEnd> asking;
        CompletableFuture<LogEnd> next;
    }

    LogEndQuestions(BiFunction<String, Integer, LogEnd> broker) {
        this.broker = broker;
        AtomicInteger count = new AtomicInteger();
        this.threads = new ThreadPoolExecutor(2, 2, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(QUEUED),
                runnable -> {
                    Thread thread = new Thread(runnable, "readside-broker-questions-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
    }

    /** Where the questions go from now on (a test's observer of the calls); returns where they went before. */
    BiFunction<String, Integer, LogEnd> askThrough(BiFunction<String, Integer, LogEnd> replacement) {
        BiFunction<String, Integer, LogEnd> before = broker;
        broker = replacement;
        return before;
    }

    /**
     * A log end that tells whether {@code offset} exists in the partition: the latest known one when it already lies
     * beyond the offset; otherwise the answer of a question asked after this call. Fails when the broker could not
     * be asked or did not answer.
     */
    Uni<LogEnd> endBeyond(String topic, int partition, long offset) {
        if (closed) {
            return Uni.createFrom().failure(shuttingDown());
        }
        TopicPartition key = new TopicPartition(topic, partition);
        Joined joined = new Joined();
        partitions.compute(key, (k, known) -> {
            Partition questions = known == null ? new Partition() : known;
            if (questions.known != null && offset < questions.known.endOffset()) {
                joined.end = questions.known;
            } else if (questions.asking == null) {
                questions.asking = joined.answer = joined.start = new CompletableFuture<>();
            } else {
                if (questions.next == null) {
                    questions.next = new CompletableFuture<>();
                }
                joined.answer = questions.next;
            }
            return questions;
        });
        if (joined.end != null) {
            return Uni.createFrom().item(joined.end);
        }
        if (joined.start != null) {
            ask(key, joined.start);
        }
        CompletableFuture<LogEnd> answer = joined.answer;
        // each caller its own stage: one caller that goes away must not cancel everybody's question
        return Uni.createFrom().emitter(emitter -> answer.whenComplete((end, failure) -> {
            if (failure != null) {
                emitter.fail(failure);
            } else {
                emitter.complete(end);
            }
        }));
    }

    /** What a caller got: a known end, or the question it waits for (and starts, when none was being asked). */
    private static final class Joined {
        LogEnd end;
        CompletableFuture<LogEnd> answer;
        CompletableFuture<LogEnd> start;
    }

    private void ask(TopicPartition key, CompletableFuture<LogEnd> question) {
        try {
            threads.execute(() -> {
                LogEnd end = null;
                Throwable failure = null;
                try {
                    end = broker.apply(key.topic(), key.partition());
                } catch (Throwable e) { // an Error too: a question never answered would hold its partition for good
                    failure = e;
                }
                answered(key, question, end, failure);
            });
        } catch (RejectedExecutionException e) {
            answered(key, question, null, new IllegalStateException("too many questions for the broker"));
        }
    }

    private void answered(TopicPartition key, CompletableFuture<LogEnd> question, LogEnd end, Throwable failure) {
        Joined following = new Joined();
        partitions.computeIfPresent(key, (k, questions) -> {
            if (end != null && end.exists()
                    && (questions.known == null || end.endOffset() > questions.known.endOffset())) {
                questions.known = end;
            }
            if (failure == null) {
                following.start = questions.asking = questions.next;
            } else { // those who joined the next question share this failure: none is asked now
                following.answer = questions.next;
                questions.asking = null;
            }
            questions.next = null;
            return questions.asking == null && questions.known == null ? null : questions;
        });
        if (failure != null) {
            question.completeExceptionally(failure);
            if (following.answer != null) {
                following.answer.completeExceptionally(failure);
            }
        } else {
            question.complete(end);
        }
        if (following.start != null) {
            ask(key, following.start);
        }
    }

    private static IllegalStateException shuttingDown() {
        return new IllegalStateException("shutting down: the broker is no longer asked");
    }

    /** Stops the threads and fails every caller still waiting, queued questions included. */
    @Override
    public void close() {
        closed = true;
        failWaiting();
        threads.shutdownNow(); // after: a question interrupted here finds its callers already told why
        failWaiting(); // those who joined between the first sweep and the threads' end: their questions never run
    }

    private void failWaiting() {
        for (TopicPartition key : partitions.keySet()) {
            List<CompletableFuture<LogEnd>> waiting = new ArrayList<>(2);
            partitions.computeIfPresent(key, (k, questions) -> {
                Stream.of(questions.asking, questions.next).filter(Objects::nonNull).forEach(waiting::add);
                return null;
            });
            waiting.forEach(question -> question.completeExceptionally(shuttingDown()));
        }
    }
}
