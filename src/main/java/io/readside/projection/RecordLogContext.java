package io.readside.projection;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jboss.logging.MDC;

/**
 * Puts a record's topic, partition and offset into the logging context while a line about it is written, so that
 * JSON logs carry them as fields.
 */
public final class RecordLogContext implements AutoCloseable {

    private RecordLogContext() {
    }

    public static RecordLogContext of(ConsumerRecord<?, ?> record) {
        MDC.put("topic", record.topic());
        MDC.put("partition", Integer.toString(record.partition()));
        MDC.put("offset", Long.toString(record.offset()));
        return new RecordLogContext();
    }

    @Override
    public void close() {
        MDC.remove("topic");
        MDC.remove("partition");
        MDC.remove("offset");
    }
}
