package io.readside.projection;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongFunction;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.readside.projection.PositionGaps.Gap;
import io.readside.projection.PositionGaps.Owned;
import io.smallrye.mutiny.Uni;

/** Which gaps between a stored position and a batch are read from the broker first, and what is counted. Pure logic. */
class PositionGapsTest {

    private static final TopicPartition ORDERS_3 = new TopicPartition("orders", 3);
    private static final Owned OWNED = new Owned("readside", ORDERS_3);

    private final PositionGaps gaps = new PositionGaps();

    @AfterEach
    void close() {
        gaps.close();
    }

    /** For a batch beginning now. */
    private boolean mustFill(Gap gap) {
        return gaps.mustFill(gap, gaps.began());
    }

    @Test
    void aPositionBelowWhereTheConsumerWasPlacedIsFilledEvenBeforeThisInstanceCommittedAnything() {
        gaps.placed("readside", List.of(ORDERS_3), Map.of(ORDERS_3, 5_000L));
        assertTrue(mustFill(new Gap(OWNED, 4_200, 5_000)), "restored below the placement");
        assertTrue(mustFill(new Gap(OWNED, 0, 5_000)), "the position row gone");
        assertFalse(mustFill(new Gap(OWNED, 5_000, 5_003)), "markers after the placement");
        assertFalse(mustFill(new Gap(new Owned("other-group", ORDERS_3), 4_200, 5_000)),
                "another group's positions are its own");
    }

    @Test
    void aRevokedPartitionIsNotJudgedByWhatThisInstanceOnceExpectedOfIt() {
        gaps.committed("readside", "orders", Map.of(3, new long[] { 400, 500 }), Map.of(), gaps.began());
        assertTrue(mustFill(new Gap(OWNED, 450, 5_000)));
        gaps.revoked("readside", List.of(ORDERS_3));
        assertFalse(mustFill(new Gap(OWNED, 450, 5_000)), "another owner moved it on meanwhile");
        gaps.placed("readside", List.of(ORDERS_3), Map.of(ORDERS_3, 5_000L));
        assertFalse(mustFill(new Gap(OWNED, 5_000, 5_001)));
    }

    @Test
    void anUnverifiedStartIsFilledOnceItsGapIsCheckedNotAgain() {
        gaps.unverified("readside", List.of(ORDERS_3));
        Gap gap = new Gap(OWNED, 100, 180);
        assertTrue(mustFill(gap));
        gaps.checked(gap);
        assertFalse(mustFill(gap));
        assertTrue(mustFill(new Gap(OWNED, 100, 181)), "another gap is checked on its own");
        gaps.committed("readside", "orders", Map.of(3, new long[] { 181, 190 }), Map.of(), gaps.began());
        assertFalse(mustFill(new Gap(OWNED, 190, 192)), "a batch of the partition committed: verified");
    }

    @Test
    void anUnverifiedStartStaysUnverifiedThroughRevocationAndReassignmentUntilABatchCommits() {
        gaps.unverified("readside", List.of(ORDERS_3));
        gaps.revoked("readside", List.of(ORDERS_3));
        Gap retried = new Gap(OWNED, 100, 180); // the batch fetched from Kafka's committed offset, still retrying
        assertTrue(mustFill(retried), "a batch fetched before the revocation may still be retrying");
        gaps.placed("readside", List.of(ORDERS_3), Map.of(ORDERS_3, 100L));
        assertTrue(mustFill(retried), "the new placement does not vouch for a batch fetched before it");
        gaps.committed("readside", "orders", Map.of(3, new long[] { 100, 180 }), Map.of(), gaps.began());
        assertFalse(mustFill(new Gap(OWNED, 180, 182)), "a batch of the partition committed: verified");
    }

    @Test
    void aLateCommitOfABatchBegunBeforeAnUnverifiedAssignmentLeavesThatAssignmentUnverified() {
        // a poll of one consumer begins; the partition then moves to another consumer of this instance
        // (mp.messaging.incoming.orders.concurrency), which could not read the stored positions
        GapTrust.Began began = gaps.began();
        gaps.revoked("readside", List.of(ORDERS_3));
        gaps.unverified("readside", List.of(ORDERS_3));
        gaps.committed("readside", "orders", Map.of(3, new long[] { 400, 500 }), Map.of(), began); // the first commits
        assertTrue(mustFill(new Gap(OWNED, 500, 5_000)),
                "the new owner started at Kafka's committed offset: its first batch still reads the gap first");
        gaps.committed("readside", "orders", Map.of(3, new long[] { 5_000, 5_100 }), Map.of(), gaps.began());
        assertFalse(mustFill(new Gap(OWNED, 5_100, 5_102)), "a batch begun since committed: verified");
    }

    @Test
    void aBatchBegunOnAnUnverifiedStartStillReadsItsGapAfterAnotherConsumerVerifiedThePartition() {
        gaps.unverified("readside", List.of(ORDERS_3)); // one consumer could not read the stored positions
        GapTrust.Began retrying = gaps.began(); // its first batch begins, and retries (the database is down)
        gaps.revoked("readside", List.of(ORDERS_3));
        gaps.placed("readside", List.of(ORDERS_3), Map.of(ORDERS_3, 100L)); // another consumer of this instance
        gaps.committed("readside", "orders", Map.of(3, new long[] { 100, 150 }), Map.of(), gaps.began());
        assertTrue(gaps.mustFill(new Gap(OWNED, 150, 180), retrying),
                "the retrying batch began at the unverified start: the records before it are read first");
        assertFalse(mustFill(new Gap(OWNED, 150, 180)), "for a batch begun now the partition is verified");
    }

    @Test
    void aFillThatCommittedAChunkAndFailedOnTheNextStillOwesTheRestOfItsGap() {
        gaps.unverified("readside", List.of(ORDERS_3));
        Gap gap = new Gap(OWNED, 100, 5_000);
        assertTrue(mustFill(gap));
        gaps.registry = new SimpleMeterRegistry();
        AtomicInteger reads = new AtomicInteger();
        gaps.broker = standIn(from -> {
            if (reads.incrementAndGet() > 1) {
                throw new IllegalStateException("the broker went away after the first chunk");
            }
            return List.of(record(from), record(from + 1));
        });
        Throwable failed = assertThrows(IllegalStateException.class, () -> gaps.fill(gap, chunk -> {
            // the chunk commits as the projector commits it
            gaps.committed("readside", "orders", Map.of(3, new long[] { chunk.get(0).offset(),
                    chunk.get(chunk.size() - 1).offset() + 1 }), Map.of(), gaps.began());
            return Uni.createFrom().voidItem();
        }).await().atMost(Duration.ofSeconds(30)));
        assertEquals("the broker went away after the first chunk", failed.getMessage());
        assertTrue(mustFill(new Gap(OWNED, 102, 5_000)),
                "the batch's retry finds the stored position after the first chunk: the rest is still read first");

        gaps.broker = standIn(from -> List.of()); // markers only up to the batch
        gaps.fill(new Gap(OWNED, 102, 5_000), chunk -> Uni.createFrom().voidItem()).await()
                .atMost(Duration.ofSeconds(30));
        assertFalse(mustFill(new Gap(OWNED, 5_000, 5_002)), "read through: nothing owed past the gap");
    }

    @Test
    void aPartitionSentBackToItsLogStartCountsWhatRetentionDeletedBeforeThatStart() {
        // committed offsets but no stored position (PositionSeeker): back to the log start, which retention moved to 40
        gaps.unverified("readside", List.of(ORDERS_3));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        gaps.registry = registry;
        gaps.broker = standIn(40, from -> List.of());
        Gap fromNothing = new Gap(OWNED, 0, 40); // no stored position: the gap starts at 0
        assertTrue(mustFill(fromNothing));
        gaps.fill(fromNothing, chunk -> Uni.createFrom().voidItem()).await().atMost(Duration.ofSeconds(30));
        assertEquals(40, deleted(registry), "offsets 0 to 39 were deleted before this database applied them");
    }

    @Test
    void aNewPartitionOrGroupWhoseLogStartsPastZeroCountsNothing() {
        // no stored position and no committed offset: nothing was ever applied, so nothing was lost to the read models
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        gaps.registry = registry;
        gaps.placed("readside", List.of(ORDERS_3), Map.of());
        assertFalse(mustFill(new Gap(OWNED, 0, 40)));
        AtomicInteger asked = new AtomicInteger();
        gaps.broker = new GapBroker("unused:9092", Duration.ofSeconds(1), 2) {
            @Override
            Map<TopicPartition, Long> logStarts(List<TopicPartition> partitions) {
                asked.incrementAndGet();
                return Map.of(ORDERS_3, 40L);
            }
        };
        gaps.committed("readside", "orders", Map.of(3, new long[] { 40, 41 }), Map.of(3, new long[] { 0, 40 }),
                gaps.began());
        // a gap after a real position, committed next, is checked on the same thread after this one would have been
        gaps.committed("readside", "orders", Map.of(3, new long[] { 45, 46 }), Map.of(3, new long[] { 41, 45 }),
                gaps.began());
        await().atMost(Duration.ofSeconds(30)).until(() -> asked.get() > 0);
        // the broker-call thread runs one task after the other: once this one answers, the check that asked is done
        gaps.logStart(ORDERS_3).await().atMost(Duration.ofSeconds(30));
        assertEquals(0, deleted(registry), "the log start check of 41..44 found nothing deleted, and 0..39 was not"
                + " asked: nothing was ever applied from it");
    }

    /** A broker whose log of orders-3 starts at 0 and answers a read from an offset with {@code read}. */
    private static GapBroker standIn(LongFunction<List<ConsumerRecord<byte[], byte[]>>> read) {
        return standIn(0, read);
    }

    /** A broker whose log of orders-3 starts at {@code logStart} and answers a read from an offset with {@code read}. */
    private static GapBroker standIn(long logStart, LongFunction<List<ConsumerRecord<byte[], byte[]>>> read) {
        return new GapBroker("unused:9092", Duration.ofSeconds(1), 2) {
            @Override
            Map<TopicPartition, Long> logStarts(List<TopicPartition> partitions) {
                return Map.of(ORDERS_3, logStart);
            }

            @Override
            List<ConsumerRecord<byte[], byte[]>> read(TopicPartition partition, long from, long until) {
                return read.apply(from);
            }
        };
    }

    private static ConsumerRecord<byte[], byte[]> record(long offset) {
        return new ConsumerRecord<>("orders", 3, offset, new byte[] { 1 }, new byte[] { 2 });
    }

    @Test
    void offsetsDeletedBeforeTheyWereAppliedAreCountedOncePerGapUpToItsFirstRecord() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        gaps.registry = registry;
        Gap gap = new Gap(OWNED, 100, 180);
        gaps.deletedBeforeApplied(gap, 150);
        gaps.deletedBeforeApplied(gap, 150); // the same gap again (a retried fill)
        assertEquals(50, deleted(registry));
        gaps.deletedBeforeApplied(new Gap(OWNED, 200, 210), 500); // log start past the batch's first record
        assertEquals(60, deleted(registry));
        gaps.deletedBeforeApplied(new Gap(OWNED, 300, 310), 300); // nothing deleted
        assertEquals(60, deleted(registry));
    }

    private static double deleted(SimpleMeterRegistry registry) {
        Counter counter = registry.find("readside_offsets_deleted_before_applied").tag("topic", "orders").counter();
        return counter == null ? 0 : counter.count(); // registered at first use (at start-up in the service)
    }
}
