package io.readside.projection.outbox;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import io.readside.projection.Output;

/** A poll's records in one outbox row keep every byte, and a re-send keeps each key's order (pure logic). */
class OutboxRecordsTest {

    @Test
    void aBatchDecodesToTheSameBytesNullsAndEmptiesIncluded() {
        byte[] binary = { 0, -1, 127, -128, 10 };
        List<Output> outputs = List.of(new Output("t", bytes("k1"), bytes("{\"a\":1}")),
                new Output("t", null, new byte[0]), new Output("t", binary, null, bytes("entity")));
        List<OutboxRecords.KeyValue> decoded = OutboxRecords.decode(OutboxRecords.encode(outputs));
        assertEquals(3, decoded.size());
        assertArrayEquals(bytes("k1"), decoded.get(0).key());
        assertArrayEquals(bytes("{\"a\":1}"), decoded.get(0).value());
        assertNull(decoded.get(0).entity());
        assertNull(decoded.get(1).key());
        assertArrayEquals(new byte[0], decoded.get(1).value());
        assertArrayEquals(binary, decoded.get(2).key());
        assertNull(decoded.get(2).value());
        assertArrayEquals(bytes("entity"), decoded.get(2).entity());
    }

    @Test
    void bytesThatAreNotABatchAreRefusedNotMisread() {
        byte[] batch = OutboxRecords.encode(List.of(new Output("t", bytes("key"), bytes("value"))));
        assertThrows(IllegalArgumentException.class, () -> OutboxRecords.decode(Arrays.copyOf(batch, batch.length - 1)));
        assertThrows(IllegalArgumentException.class, () -> OutboxRecords.decode(new byte[] { 0, 0, 0 }));
        assertThrows(IllegalArgumentException.class, () -> OutboxRecords.decode(new byte[] { 0x7f, 0, 0, 0 }));
    }

    @Test
    void aKeyIsListedAsTextOnlyWhenItIsShortPrintableUtf8() {
        assertEquals("order-1", OutboxRecords.printable(bytes("order-1")));
        assertNull(OutboxRecords.printable(new byte[] { (byte) 0xc3 }));
        assertNull(OutboxRecords.printable(bytes("a\nb")));
        assertNull(OutboxRecords.printable(bytes("x".repeat(101))));
    }

    @Test
    void aReSendIsTheFailedRecordsAndEveryLaterRecordOfTheirKeysInOrder() {
        List<ProducerRecord<byte[], byte[]>> records = List.of(record("a", "k1"), record("a", "k2"),
                record("a", "k1"), record("b", "k1"), record("a", null), record("a", "k2"), record("a", "k1"));
        List<Integer> pending = List.of(0, 1, 2, 3, 4, 5, 6);
        // k1 on topic a failed first: its later records on a follow it; k1 on topic b and k2 do not
        assertEquals(List.of(0, 2, 6), RelaySends.again(records, pending, Set.of(0)));
        // a record without a key has no order to keep beyond itself
        assertEquals(List.of(4), RelaySends.again(records, pending, Set.of(4)));
        assertEquals(List.of(1, 2, 5, 6), RelaySends.again(records, pending, Set.of(1, 2)));
    }

    private static ProducerRecord<byte[], byte[]> record(String topic, String key) {
        return new ProducerRecord<>(topic, key == null ? null : bytes(key), bytes("v"));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
