package io.readside.projection;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * A batch's records by what they are against the stored positions: redelivered (below the position), fresh and
 * valid (with the partition's stream time including each one), fresh and invalid; and the offset range of each
 * partition's fresh records, which the transaction claims. Pure logic.
 */
final class Sorted<E> {

    final List<Batch.Input<E>> redelivered = new ArrayList<>();
    final List<ConsumerRecord<byte[], byte[]>> redeliveredRecords = new ArrayList<>();
    final List<Batch.Input<E>> valid = new ArrayList<>();
    final Map<ConsumerRecord<byte[], byte[]>, InvalidRecordException> invalid = new LinkedHashMap<>();
    /** partition -> {first, next} offsets of the fresh records */
    final Map<Integer, long[]> ranges = new TreeMap<>();
    /**
     * partition -> {stored next offset (0: none), first fresh offset}: partitions whose first fresh record starts past
     * the stored position (offsets between that the consumer was not given: transaction markers, aborted or compacted
     * records, a log start past 0, or records skipped by a consumer that started elsewhere or was reset to the log
     * start)
     */
    final Map<Integer, long[]> gaps = new TreeMap<>();
    private final Map<Integer, Instant> storedStreamTimes = new HashMap<>();
    private final Map<Integer, Instant> streamTimes = new TreeMap<>();

    Sorted(Changelog<E> log, List<Parsed<E>> parsed, Map<Integer, Positions.Position> stored) {
        for (Parsed<E> each : parsed) {
            ConsumerRecord<byte[], byte[]> record = each.record();
            Positions.Position position = stored.getOrDefault(record.partition(), Positions.Position.NONE);
            if (record.offset() < position.nextOffset()) {
                redeliveredRecords.add(record);
                if (each.event() != null) {
                    redelivered.add(new Batch.Input<>(each.event(), record, null));
                }
                continue;
            }
            if (!ranges.containsKey(record.partition()) && record.offset() > position.nextOffset()) {
                gaps.put(record.partition(), new long[] { position.nextOffset(), record.offset() });
            }
            ranges.merge(record.partition(), new long[] { record.offset(), record.offset() + 1 },
                    (a, b) -> new long[] { Math.min(a[0], b[0]), Math.max(a[1], b[1]) });
            if (each.invalid() != null) {
                invalid.put(record, each.invalid());
                continue;
            }
            if (!streamTimes.containsKey(record.partition()) && position.streamTime() != null) {
                storedStreamTimes.put(record.partition(), position.streamTime());
                streamTimes.put(record.partition(), position.streamTime());
            }
            Instant eventTime = log.eventTime(each.event());
            Instant now = eventTime == null ? streamTimes.get(record.partition())
                    : streamTimes.merge(record.partition(), eventTime, (a, b) -> a.isAfter(b) ? a : b);
            valid.add(new Batch.Input<>(each.event(), record, now));
        }
    }

    List<ConsumerRecord<byte[], byte[]>> validRecords() {
        return valid.stream().map(Batch.Input::record).toList();
    }

    List<ConsumerRecord<byte[], byte[]>> redeliveredRecords() {
        return redeliveredRecords;
    }

    /** The valid events in runs, each event the changelog writes alone a run of its own, in batch order. */
    List<List<Batch.Input<E>>> segments(Changelog<E> log) {
        List<List<Batch.Input<E>>> segments = new ArrayList<>();
        List<Batch.Input<E>> run = new ArrayList<>();
        for (Batch.Input<E> input : valid) {
            if (log.alone(input.event())) {
                if (!run.isEmpty()) {
                    segments.add(run);
                    run = new ArrayList<>();
                }
                segments.add(List.of(input));
            } else {
                run.add(input);
            }
        }
        if (!run.isEmpty()) {
            segments.add(run);
        }
        return segments;
    }

    /** Each partition whose stream time the batch moved, with its new stream time. */
    Map<Integer, Instant> streamTimesMoved() {
        Map<Integer, Instant> moved = new TreeMap<>();
        streamTimes.forEach((partition, time) -> {
            Instant before = storedStreamTimes.get(partition);
            if (before == null || time.isAfter(before)) {
                moved.put(partition, time);
            }
        });
        return moved;
    }
}
