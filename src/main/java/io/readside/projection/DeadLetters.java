package io.readside.projection;

import java.nio.charset.StandardCharsets;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.Metadata;

import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;

/**
 * Publishes a record that cannot be applied to {@code <topic>.dlq}: key and value as received, the original
 * headers, and headers saying why and where it came from (named as SmallRye's own dead-letter queue names them).
 */
@ApplicationScoped
public class DeadLetters {

    public static final String CHANNEL = "dead-letters";
    public static final String SUFFIX = ".dlq";

    @Inject
    @Channel(CHANNEL)
    MutinyEmitter<byte[]> emitter;

    /** Completes when the broker has the dead letter. */
    public Uni<Void> send(String channel, ConsumerRecord<?, ?> record, InvalidRecordException e) {
        RecordHeaders headers = new RecordHeaders();
        for (Header header : record.headers()) {
            headers.add(header);
        }
        header(headers, "dead-letter-reason", e.reason());
        header(headers, "dead-letter-cause", e.getMessage());
        header(headers, "dead-letter-exception-class-name",
                (e.getCause() == null ? e : e.getCause()).getClass().getName());
        header(headers, "dead-letter-channel", channel);
        header(headers, "dead-letter-topic", record.topic());
        header(headers, "dead-letter-partition", Integer.toString(record.partition()));
        header(headers, "dead-letter-offset", Long.toString(record.offset()));
        header(headers, "dead-letter-timestamp", Long.toString(record.timestamp()));
        OutgoingKafkaRecordMetadata<Object> metadata = OutgoingKafkaRecordMetadata.builder()
                .withTopic(record.topic() + SUFFIX)
                .withKey(record.key())
                .withHeaders(headers)
                .build();
        byte[] value = record.value() instanceof byte[] bytes ? bytes
                : record.value() == null ? null : record.value().toString().getBytes(StandardCharsets.UTF_8);
        return emitter.sendMessage(Message.of(value, Metadata.of(metadata)));
    }

    private static void header(RecordHeaders headers, String name, String value) {
        headers.add(name, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }
}
