package io.readside.projection;

import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/** A record and what its parse gave: the event, or why it cannot be applied. */
record Parsed<E>(ConsumerRecord<byte[], byte[]> record, E event, InvalidRecordException invalid) {

    /** Parses every record; {@code refused} (when not null) is the reason of a batch of one instead. */
    static <E> List<Parsed<E>> all(Changelog<E> log, List<ConsumerRecord<byte[], byte[]>> records,
            InvalidRecordException refused) {
        List<Parsed<E>> parsed = new ArrayList<>(records.size());
        for (ConsumerRecord<byte[], byte[]> record : records) {
            if (refused != null) {
                parsed.add(new Parsed<>(record, null, refused));
                continue;
            }
            try {
                parsed.add(new Parsed<>(record, log.parse(record), null));
            } catch (InvalidRecordException e) {
                parsed.add(new Parsed<>(record, null, e));
            }
        }
        return parsed;
    }
}
