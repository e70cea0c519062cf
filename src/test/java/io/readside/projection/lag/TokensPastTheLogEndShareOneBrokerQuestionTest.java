package io.readside.projection.lag;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.consistency.ConsistencyGate;
import io.readside.projection.consistency.ConsistencyToken;
import io.readside.projection.lag.LagMonitor.LogEnd;
import io.readside.testing.CappedConsistencyWaits;
import io.readside.web.Problem;

/**
 * Consistency tokens beyond the last lag measurement are checked with the broker as shared work: while one question
 * for a partition is asked, every other token of that partition waits for the same next answer instead of asking
 * its own, and the questions run on threads of their own, never the worker pool that serves requests. The broker is
 * held (its answer waits on a latch) so that the sharing is seen, not raced.
 */
@QuarkusTest
@TestProfile(CappedConsistencyWaits.class)
class TokensPastTheLogEndShareOneBrokerQuestionTest {

    private static final int READS = 20;
    private static final Duration GENEROUS = Duration.ofMinutes(2);
    /** far past partition 0's log end: refused once the broker has said where the log ends */
    private static final String NEVER_ISSUED = "orders:0:999999999999";

    @Inject
    LagMonitor lag;
    @Inject
    ConsistencyGate gate;

    @Test
    void twentyTokensPastTheLogEndAskTheBrokerAtMostTwiceOnThreadsOfTheirOwn() throws Exception {
        CountDownLatch brokerHeld = new CountDownLatch(1);
        AtomicInteger questions = new AtomicInteger();
        Set<String> askedOn = ConcurrentHashMap.newKeySet();
        AtomicReference<BiFunction<String, Integer, LogEnd>> broker = new AtomicReference<>();
        broker.set(lag.askThrough((topic, partition) -> {
            questions.incrementAndGet();
            askedOn.add(Thread.currentThread().getName());
            try {
                brokerHeld.await(GENEROUS.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return broker.get().apply(topic, partition);
        }));
        ExecutorService clients = Executors.newFixedThreadPool(READS);
        List<Future<Integer>> reads = new ArrayList<>();
        try {
            for (int i = 0; i < READS; i++) {
                reads.add(clients.submit(() -> given().header(ConsistencyToken.HEADER, NEVER_ISSUED)
                        .get("/orders/any").then().statusCode(400).contentType(Problem.MEDIA_TYPE)
                        .body("detail", containsString("was never issued")).extract().statusCode()));
            }
            // every read holds its place while its token is checked, and the first question is held
            await().atMost(GENEROUS).until(() -> gate.waitsInProgress() == READS && questions.get() >= 1);
            assertEquals(1, questions.get(), "one question for partition 0 while " + READS + " tokens need it");
        } finally {
            brokerHeld.countDown();
            clients.shutdown();
        }
        for (Future<Integer> read : reads) {
            assertEquals(400, read.get(GENEROUS.toSeconds(), TimeUnit.SECONDS));
        }
        lag.askThrough(broker.get());
        assertTrue(questions.get() <= 2, () -> "the tokens that arrived during the first question share the next one, "
                + "but the broker was asked " + questions.get() + " times");
        assertTrue(askedOn.stream().allMatch(name -> name.startsWith("readside-broker-questions-")),
                () -> "asked on " + askedOn);
        await().atMost(GENEROUS).until(() -> gate.waitsInProgress() == 0);
    }
}
