package io.readside.projection.outbox;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import io.readside.projection.Output;

/**
 * The {@code records} column of an outbox row: a batch of records for one topic, in the order they are to be
 * published. Each record is its key, its value and its entity ({@link Output#entity}), each as a 4-byte big-endian
 * length ({@code -1}: null) and that many bytes, so every copy keeps the record's bytes exactly.
 */
public final class OutboxRecords {

    /** A record of a batch: its key and value (either may be null) and its entity (null: the key's). */
    public record KeyValue(byte[] key, byte[] value, byte[] entity) {
    }

    private OutboxRecords() {
    }

    public static byte[] encode(List<Output> outputs) {
        int size = 0;
        for (Output output : outputs) {
            size += 12 + length(output.key()) + length(output.value()) + length(output.entity());
        }
        ByteBuffer buffer = ByteBuffer.allocate(size);
        for (Output output : outputs) {
            put(buffer, output.key());
            put(buffer, output.value());
            put(buffer, output.entity());
        }
        return buffer.array();
    }

    /** @throws IllegalArgumentException when the bytes are not a batch this class wrote */
    public static List<KeyValue> decode(byte[] records) {
        ByteBuffer buffer = ByteBuffer.wrap(records);
        List<KeyValue> decoded = new ArrayList<>();
        while (buffer.hasRemaining()) {
            decoded.add(new KeyValue(get(buffer), get(buffer), get(buffer)));
        }
        return decoded;
    }

    /** A key as text for a listing: when it is at most 100 bytes of UTF-8 without control characters; else null. */
    public static String printable(byte[] key) {
        if (key == null || key.length > 100) {
            return null;
        }
        try {
            String text = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .decode(ByteBuffer.wrap(key)).toString();
            return text.chars().anyMatch(Character::isISOControl) ? null : text;
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }

    private static int length(byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }

    private static void put(ByteBuffer buffer, byte[] bytes) {
        buffer.putInt(bytes == null ? -1 : bytes.length);
        if (bytes != null) {
            buffer.put(bytes);
        }
    }

    private static byte[] get(ByteBuffer buffer) {
        if (buffer.remaining() < 4) {
            throw new IllegalArgumentException("an outbox batch ends inside a length");
        }
        int length = buffer.getInt();
        if (length == -1) {
            return null;
        }
        if (length < 0 || length > buffer.remaining()) {
            throw new IllegalArgumentException("an outbox batch holds a length of " + length + " with "
                    + buffer.remaining() + " bytes left");
        }
        byte[] bytes = new byte[length];
        buffer.get(bytes);
        return bytes;
    }
}
