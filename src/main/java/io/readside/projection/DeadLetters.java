package io.readside.projection;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.Metadata;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

import io.smallrye.mutiny.CompositeException;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;

/**
 * Publishes a record that cannot be applied to {@code <topic>.dlq}: key and value as received (bytes), the original
 * headers, and headers saying why and where it came from (named as SmallRye's own dead-letter queue names them).
 * A dead letter is always deliverable: when the copy would exceed what the producer takes
 * ({@code max.request.size}), or the broker refuses it for good (too large for the topic, invalid, not authorised),
 * a stub goes instead (origin, sizes, SHA-256 digests, no copy), and if even the stub is refused nothing goes. In
 * both cases the caller keeps the record's bytes in PostgreSQL ({@link SetAside}). Errors that may pass (the broker
 * unreachable, a time-out) fail the returned {@code Uni}, to be retried.
 */
@ApplicationScoped
public class DeadLetters {

    public static final String CHANNEL = "dead-letters";
    public static final String SUFFIX = ".dlq";
    public static final String STUB_HEADER = "dead-letter-stub";
    /**
     * The last header of every dead letter: {@code copy} or {@code stub}. The record's own headers may have any
     * name (even a dead-letter-* one): what Readside added is told by this header, read with {@code lastHeader},
     * and {@link #ORIGINAL_HEADERS}.
     */
    public static final String KIND_HEADER = "dead-letter-kind";
    /** How many of a copy's headers, from the first, are the record's own. */
    public static final String ORIGINAL_HEADERS = "dead-letter-original-headers";
    /** A key longer than this is left out of a stub (its size and digest say which it was). */
    static final int MAX_STUB_KEY_BYTES = 256;

    /** What reached {@code <topic>.dlq}. */
    public enum Delivery {
        /** key, value and headers as received */
        COPY,
        /** a stub that names the record; its bytes are kept in PostgreSQL */
        STUB,
        /** nothing: the broker refused even a stub; the record's bytes are kept in PostgreSQL */
        NONE
    }

    /** The outcome of a dead letter; {@code error} is why the copy (and, for NONE, the stub) was refused. */
    public record Letter(Delivery delivery, String error) {
        static final Letter COPIED = new Letter(Delivery.COPY, null);

        /** The record's bytes must be kept elsewhere. */
        public boolean setAside() {
            return delivery != Delivery.COPY;
        }
    }

    /**
     * Unbounded: a poll's invalid records are all sent at once (up to max.poll.records per consumer), more than the
     * default buffer (128) and the Kafka sink's max-inflight-messages (1,024) hold; a bounded buffer refused the rest,
     * and the poll was retried, sending the refused ones again and again. A batch's next attempt begins only once each
     * of its letters was delivered or failed ({@link #sendOnce}), so what waits here is at most the invalid records of
     * the polls being applied, which are in memory anyway.
     */
    @Inject
    @Channel(CHANNEL)
    @OnOverflow(OnOverflow.Strategy.UNBOUNDED_BUFFER)
    MutinyEmitter<byte[]> emitter;

    @ConfigProperty(name = "mp.messaging.outgoing." + CHANNEL + ".max.request.size", defaultValue = "1048576")
    int maxRequestSize;

    /** Completes when the broker has the dead letter (or has refused it for good: see {@link Letter}). */
    public Uni<Letter> send(String channel, ConsumerRecord<?, ?> record, InvalidRecordException e) {
        byte[] key = bytes(record.key());
        byte[] value = bytes(record.value());
        RecordHeaders headers = new RecordHeaders();
        int own = 0;
        for (Header header : record.headers()) {
            headers.add(header);
            own++;
        }
        describe(headers, channel, record, e);
        header(headers, ORIGINAL_HEADERS, Integer.toString(own));
        header(headers, KIND_HEADER, "copy");
        int size = AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE,
                key, value, headers.toArray());
        if (size > maxRequestSize) {
            return stub(channel, record, e, key, value, "the copy would be " + size
                    + " bytes, above the producer's max.request.size of " + maxRequestSize);
        }
        return publish(record, key, value, headers).replaceWith(Letter.COPIED)
                .onFailure(DeadLetters::isFinal).recoverWithUni(refused -> stub(channel, record, e, key, value,
                        "the copy was refused: " + describe(refused)));
    }

    private Uni<Letter> stub(String channel, ConsumerRecord<?, ?> record, InvalidRecordException e, byte[] key,
            byte[] value, String why) {
        RecordHeaders headers = new RecordHeaders();
        describe(headers, channel, record, e);
        header(headers, STUB_HEADER, why);
        header(headers, KIND_HEADER, "stub");
        int headerBytes = 0;
        for (Header header : record.headers()) {
            headerBytes += header.key().getBytes(StandardCharsets.UTF_8).length
                    + (header.value() == null ? 0 : header.value().length);
        }
        String stub = "{\"stub\":true,\"why\":" + jsonString(why)
                + ",\"topic\":" + jsonString(record.topic()) + ",\"partition\":" + record.partition()
                + ",\"offset\":" + record.offset()
                + ",\"key_bytes\":" + (key == null ? "null" : key.length)
                + ",\"key_sha256\":" + (key == null ? "null" : "\"" + sha256(key) + "\"")
                + ",\"value_bytes\":" + (value == null ? "null" : value.length)
                + ",\"value_sha256\":" + (value == null ? "null" : "\"" + sha256(value) + "\"")
                + ",\"headers\":" + record.headers().toArray().length + ",\"header_bytes\":" + headerBytes
                + ",\"kept_in\":\"PostgreSQL table set_aside_records\"}";
        byte[] stubKey = key != null && key.length <= MAX_STUB_KEY_BYTES ? key : null;
        return publish(record, stubKey, stub.getBytes(StandardCharsets.UTF_8), headers)
                .replaceWith(new Letter(Delivery.STUB, why))
                .onFailure(DeadLetters::isFinal).recoverWithItem(refused -> new Letter(Delivery.NONE,
                        why + "; the stub was refused too: " + describe(refused)));
    }

    private Uni<Void> publish(ConsumerRecord<?, ?> record, byte[] key, byte[] value, RecordHeaders headers) {
        OutgoingKafkaRecordMetadata<Object> metadata = OutgoingKafkaRecordMetadata.builder()
                .withTopic(record.topic() + SUFFIX)
                .withKey(key)
                .withHeaders(headers)
                .build();
        return emitter.sendMessage(Message.of(value, Metadata.of(metadata)));
    }

    /** The dead-letter-* headers: every one bounded (the cause is cut by {@link InvalidRecordException}). */
    private static void describe(RecordHeaders headers, String channel, ConsumerRecord<?, ?> record,
            InvalidRecordException e) {
        header(headers, "dead-letter-reason", e.reason());
        header(headers, "dead-letter-cause", e.getMessage());
        header(headers, "dead-letter-exception-class-name",
                (e.getCause() == null ? e : e.getCause()).getClass().getName());
        header(headers, "dead-letter-channel", channel);
        header(headers, "dead-letter-topic", record.topic());
        header(headers, "dead-letter-partition", Integer.toString(record.partition()));
        header(headers, "dead-letter-offset", Long.toString(record.offset()));
        header(headers, "dead-letter-timestamp", Long.toString(record.timestamp()));
    }

    /**
     * A producer error that no retry can mend: the record (or stub) is too large, the topic invalid, the
     * principal not authorised, the broker refuses the record (e.g. a null key on a compacted topic).
     */
    public static boolean isFinal(Throwable error) {
        for (Throwable e = error; e != null; e = e.getCause()) {
            if (e instanceof RecordTooLargeException || e instanceof RecordBatchTooLargeException
                    || e instanceof InvalidTopicException || e instanceof AuthorizationException
                    || e instanceof SerializationException
                    || e instanceof org.apache.kafka.common.InvalidRecordException) {
                return true;
            }
            if (e.getCause() == e) {
                break;
            }
        }
        return false;
    }

    public static String describe(Throwable error) {
        String message = error.getMessage();
        String text = error.getClass().getSimpleName() + (message == null ? "" : ": " + message);
        return text.length() <= 200 ? text : text.substring(0, 200) + "…";
    }

    static byte[] bytes(Object data) {
        if (data == null || data instanceof byte[]) {
            return (byte[]) data;
        }
        return data.toString().getBytes(StandardCharsets.UTF_8);
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A JSON string of a text of ours (a topic name, a reason): quotes, backslashes and controls escaped. */
    private static String jsonString(String text) {
        StringBuilder json = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                json.append('\\').append(c);
            } else if (c < 0x20 || Character.isSurrogate(c)) {
                json.append(String.format("\\u%04x", (int) c));
            } else {
                json.append(c);
            }
        }
        return json.append('"').toString();
    }

    private static void header(RecordHeaders headers, String name, String value) {
        headers.add(name, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The dead letters of a batch's fresh invalid records, each sent once per delivery ({@code sent}: by
     * {@link ProjectionMetrics#where}, kept across a batch's retries and halves), before its claim.
     */
    Uni<Void> sendOnce(String channel, Map<ConsumerRecord<byte[], byte[]>, InvalidRecordException> invalid,
            Map<String, Letter> sent) {
        List<Uni<Void>> letters = new ArrayList<>();
        invalid.forEach((record, e) -> {
            String where = ProjectionMetrics.where(record);
            if (!sent.containsKey(where)) {
                letters.add(send(channel, record, e).invoke(letter -> sent.put(where, letter)).replaceWithVoid());
            }
        });
        // every letter settles before a failure ends the batch's attempt: each one the broker has is remembered, so the
        // retry sends only those it has not (a first failure cancelling the others forgot letters sent meanwhile); the
        // attempt fails with the first letter's failure, as one (its class is the apply-failures metric's reason)
        return letters.isEmpty() ? Uni.createFrom().voidItem()
                : Uni.join().all(letters).andCollectFailures().replaceWithVoid()
                        .onFailure(CompositeException.class)
                        .transform(e -> ((CompositeException) e).getCauses().get(0));
    }
}
