package io.readside.projection.replay;

import java.time.Instant;
import java.util.List;

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
