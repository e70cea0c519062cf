package io.readside.projection;

import java.time.Instant;
import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.readside.projection.tracing.TraceHeaders;

/**
 * Valid events of one transaction, in offset order within each partition.
 *
 * @param inputs the events with their records and stream time
 * @param live false in a rebuild's replay: no order locks are needed (the shadow has one writer) and nothing is
 *        requested of other services (what the read models publish is dropped by the engine)
 * @param processedAt when the batch was folded (microseconds), the {@code processed_at} of what it changes
 * @param trace the trace context the batch's writes carry on (null: none)
 */
public record Batch<E>(List<Input<E>> inputs, boolean live, Instant processedAt, TraceHeaders trace) {

    /**
     * One valid event and the record it came from.
     *
     * @param streamTime the partition's stream time including this event's time (null: the topic has none)
     */
    public record Input<E>(E event, ConsumerRecord<byte[], byte[]> record, Instant streamTime) {

        public int partition() {
            return record.partition();
        }

        public long offset() {
            return record.offset();
        }
    }
}
