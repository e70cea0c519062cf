package io.readside.projection;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.common.TopicPartition;

import io.readside.projection.PositionGaps.Gap;
import io.readside.projection.PositionGaps.Owned;

/**
 * Which gaps between a stored position and a batch's first record {@link PositionGaps} must read from the broker
 * before the batch may claim past them. Three reasons, each kept until the broker has been read, not until something
 * else happens to the partition:
 * <ul>
 * <li><b>unverified</b>: the stored positions could not be read when the partition was assigned, so the consumer
 * started at Kafka's committed offset. Kept through later assignments and revocations (a batch fetched then may
 * still be retrying), until a batch of the partition begun since commits (not one begun before: with several
 * consumers in one instance, the previous owner's late commit).</li>
 * <li><b>expected</b>: the stored position is below where this instance placed the consumer or last committed (a
 * database restored while it runs, a position row gone). Forgotten when the partition is revoked: its next owner
 * moves it on.</li>
 * <li><b>owed</b>: a fill began and has not yet read up to the end of its gap (a chunk committed, the next one
 * failed). Kept until a fill reads through; harmless once the stored position passed it.</li>
 * </ul>
 * Pure bookkeeping; thread-safe.
 */
final class GapTrust {

    /** per partition, the {@link #epoch} of its unverified assignment */
    private final Map<Owned, Long> unverified = new ConcurrentHashMap<>();
    private final AtomicLong epoch = new AtomicLong();
    /** per partition this instance owns, the stored position it placed the consumer at or last committed */
    private final Map<Owned, Long> expected = new ConcurrentHashMap<>();
    /** per partition, the end of the gap a fill began and has not read through */
    private final Map<Owned, Long> owed = new ConcurrentHashMap<>();
    /** per partition, the gap {next, first} last found to hold nothing left to apply */
    private final Map<Owned, long[]> checked = new ConcurrentHashMap<>();

    /**
     * What a batch takes when it begins: the epoch (which grows with each unverified assignment) and the partitions
     * unverified then. The batch reads its gaps in those partitions first even if another consumer of this instance
     * verifies them meanwhile (the batch may be retrying, from the unverified start).
     */
    record Began(long epoch, Set<Owned> unverified) {
    }

    Began began() {
        long now = epoch.get();
        return new Began(now, unverified.isEmpty() ? Set.of() : Set.copyOf(unverified.keySet()));
    }

    void unverified(String group, Collection<TopicPartition> partitions) {
        long now = epoch.incrementAndGet();
        partitions.forEach(partition -> unverified.put(new Owned(group, partition), now));
    }

    void placed(String group, Collection<TopicPartition> partitions, Map<TopicPartition, Long> stored) {
        for (TopicPartition partition : partitions) {
            Owned owned = new Owned(group, partition);
            Long next = stored.get(partition);
            if (next == null) {
                expected.remove(owned);
            } else {
                expected.put(owned, next);
            }
        }
    }

    void revoked(String group, Collection<TopicPartition> partitions) {
        for (TopicPartition partition : partitions) {
            Owned owned = new Owned(group, partition);
            expected.remove(owned);
            checked.remove(owned);
        }
    }

    boolean mustFill(Gap gap, Began began) {
        if (isChecked(gap)) {
            return false;
        }
        if (began.unverified().contains(gap.owned())) {
            return true;
        }
        Long placed = expected.get(gap.owned());
        Long filledUntil = owed.get(gap.owned());
        return unverified.containsKey(gap.owned()) || placed != null && gap.next() < placed
                || filledUntil != null && gap.next() < filledUntil;
    }

    boolean isChecked(Gap gap) {
        long[] known = checked.get(gap.owned());
        return known != null && known[0] == gap.next() && known[1] == gap.first();
    }

    void checked(Gap gap) {
        checked.put(gap.owned(), new long[] { gap.next(), gap.first() });
    }

    /**
     * A batch of these partitions committed ({@code ranges}: partition to {first, next}). A batch begun before its
     * partition's unverified assignment (another consumer of this instance owned it then, and its poll committed late)
     * vouches neither for that assignment nor for where it started: both stay as they are.
     */
    void committed(String group, String topic, Map<Integer, long[]> ranges, Began began) {
        ranges.forEach((partition, range) -> {
            Owned owned = new Owned(group, new TopicPartition(topic, partition));
            Long unverifiedAt = unverified.get(owned);
            if (unverifiedAt == null || unverifiedAt <= began.epoch()) {
                expected.put(owned, range[1]);
                unverified.remove(owned, unverifiedAt);
            }
        });
    }

    /** A fill of the gap begins: until it reads through, a claim past the gap's start reads the broker first. */
    void fillBegins(Gap gap) {
        owed.merge(gap.owned(), gap.first(), Math::max);
    }

    /** A fill read through to the end of the gap (what is read is applied, or was nothing to apply). */
    void filledThrough(Gap gap) {
        checked(gap);
        owed.computeIfPresent(gap.owned(), (owned, until) -> until <= gap.first() ? null : until);
    }
}
