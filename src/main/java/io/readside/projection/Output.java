package io.readside.projection;

/**
 * A record a read model publishes: its topic, key and value as bytes (what the consumer reads, byte for byte), and the
 * entity whose state it carries (null: the key's; a window's state, say, is keyed by its category). The engine writes
 * it to the outbox in the transaction that applied its input; the relay publishes it, per key in commit order, at
 * least once. A record the broker refuses for good is parked, and superseded by a later record of the same entity.
 */
public record Output(String topic, byte[] key, byte[] value, byte[] entity) {

    /** A record whose key is its entity. */
    public Output(String topic, byte[] key, byte[] value) {
        this(topic, key, value, null);
    }

    /** The entity whose state it carries: its own, or the key. */
    public byte[] entityOrKey() {
        return entity != null ? entity : key;
    }
}
