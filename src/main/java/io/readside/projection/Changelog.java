package io.readside.projection;

import java.time.Instant;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * A topic read as a changelog into read models: what the engine ({@link Projector}) asks of the topic's projection.
 * The engine does the delivery (positions, fencing, stream time, dead letters, retries, writing what the read models
 * publish to the outbox in their transaction, acknowledgement, rebuild replays); an implementation says how a record becomes an event and what a batch of events
 * writes.
 *
 * @param <E> what a valid record of the topic is (immutable)
 */
public interface Changelog<E> {

    /** The SmallRye channel that consumes the topic (metrics, logs and spans are labelled with it). */
    String channel();

    String topic();

    /** The consumer group whose positions the changes commit with. */
    String group();

    /**
     * Reads a record. Depends on the record alone (never on the clock or the database), so that every retry and
     * every rebuild decides the same.
     *
     * @throws InvalidRecordException with the reason when the record cannot be applied (it is set aside)
     */
    E parse(ConsumerRecord<byte[], byte[]> record);

    /** The event's time for the partition's stream time; null when the event does not move it. */
    Instant eventTime(E event);

    /**
     * True for an event that must be written in a batch of its own (a command between versions, say): the engine
     * splits the batch around it, all in the same transaction and in offset order.
     */
    default boolean alone(E event) {
        return false;
    }

    /**
     * Writes a batch of valid events (in offset order within each partition, claimed in this transaction) with
     * set-based statements on {@code conn}; returns what it publishes (written to the outbox in this transaction) and
     * what to count once the transaction committed.
     */
    Uni<Committed> write(SqlConnection conn, Batch<E> batch);

    /**
     * Asked before a dead letter is redriven ({@code POST /admin/dead-letters/{topic}/redrive}): sent again, its
     * record would be applied as the latest version of the entity its key names. True when that entity was last
     * changed by a record that is not an earlier one of the same partition than {@code partition}@{@code offset}
     * (where the dead letter was read), so that redriving it would move the entity backwards. False when this
     * changelog keeps no version per entity (the default).
     */
    default Uni<Boolean> newerVersionApplied(SqlClient client, byte[] key, int partition, long offset) {
        return Uni.createFrom().item(false);
    }
}
