package io.readside.projection.replay;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.readside.projection.Changelog;
import io.readside.projection.Projector;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * A read model that can be rebuilt from its topic: the engine replays its records on the connection it is given,
 * exactly as its live channel applies them, with unqualified table names (a rebuild points them at its shadow schema).
 */
public interface Replayable<E> extends Changelog<E> {

    /** The name a rebuild is asked for by ({@code POST /admin/rebuilds/{readModel}}). */
    String readModel();

    /** The tables that hold the read model and are replaced together at the switch. */
    List<String> tables();

    /**
     * The table whose rows name the record of their version ({@code source_partition}, {@code source_offset}): the
     * history-loss guard counts its rows that lie before the log start.
     */
    default String entityTable() {
        return tables().get(0);
    }

    /**
     * Read models derived from this one that can be rebuilt alone, each by its own name: the replay is this one's
     * (into a shadow of all its tables), and only the part's tables are switched and carried over. None by default.
     */
    default List<Replayable<?>> parts() {
        return List.of();
    }

    /**
     * The read model this one is a part of ({@link #parts}), if any. A part's rebuild never accepts history loss: its
     * rebuilt tables would lack what the tables it is derived from still hold, and every later change would be folded
     * against rows it never counted.
     */
    default Optional<String> derivedFrom() {
        return Optional.empty();
    }

    /**
     * Applies records (with their positions) in {@code conn}'s transaction through the engine's batch path, without
     * publishing anything (the live pass published it); returns how many were valid (the live pass sent the others
     * to the dead-letter topic).
     */
    default Uni<Long> replay(Projector engine, SqlConnection conn, List<ConsumerRecord<byte[], byte[]>> records) {
        return engine.replay(this, conn, records);
    }

    /** Moves the position past a record the database refuses (the live pass set it aside). */
    default Uni<Void> skip(Projector engine, SqlConnection conn, ConsumerRecord<byte[], byte[]> record) {
        return engine.skip(this, conn, record);
    }

    /**
     * Carries over what a replay cannot know (e.g. when a version was first processed) from the live tables
     * ({@code live} schema) into the rebuilt ones. Runs twice: before the switch for every row ({@code replayedSince}
     * null), then in the switch transaction, live writers held, for the rows replayed since the first run began.
     */
    default Uni<Void> carryOver(SqlConnection conn, String live, String rebuilt, Instant replayedSince) {
        return Uni.createFrom().voidItem();
    }
}
