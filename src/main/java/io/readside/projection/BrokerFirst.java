package io.readside.projection;

import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.common.TopicPartition;

/** Ends a transaction that found the broker must be asked first; nothing of it was written. */
final class BrokerFirst extends RuntimeException {
    final boolean confirm;
    final List<PositionGaps.Gap> fills;

    BrokerFirst(boolean confirm, List<PositionGaps.Gap> fills) {
        super("the broker is asked first", null, false, false);
        this.confirm = confirm;
        this.fills = fills;
    }

    static void ifNeeded(String group, String topic, Sorted<?> sorted, boolean logConfirmed, PositionGaps gaps,
            GapTrust.Began began) {
        boolean confirm = !logConfirmed && !sorted.redeliveredRecords.isEmpty();
        List<PositionGaps.Gap> fills = new ArrayList<>();
        sorted.gaps.forEach((partition, gap) -> {
            PositionGaps.Gap found = new PositionGaps.Gap(
                    new PositionGaps.Owned(group, new TopicPartition(topic, partition)), gap[0], gap[1]);
            if (gaps.mustFill(found, began)) {
                fills.add(found);
            }
        });
        if (confirm || !fills.isEmpty()) {
            throw new BrokerFirst(confirm, fills);
        }
    }
}
