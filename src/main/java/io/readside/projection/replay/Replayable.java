package io.readside.projection.replay;

import java.time.Instant;
import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * A read model that can be rebuilt from its topic: its projector applies a record on the connection it is given,
 * exactly as its live channel does, with unqualified table names (a rebuild points them at its shadow schema).
 */
public interface Replayable {

    /** The name a rebuild is asked for by ({@code POST /admin/rebuilds/{readModel}}). */
    String readModel();

    String topic();

    /** The consumer group whose positions the read model's changes commit with. */
    String group();

    /** The tables that hold the read model and are replaced together at the switch. */
    List<String> tables();

    /**
     * Applies one record in {@code conn}'s transaction without publishing anything (the live pass published it);
     * false when the record is invalid (the live pass sent it to the dead-letter topic).
     */
    Uni<Boolean> replay(SqlConnection conn, ConsumerRecord<byte[], byte[]> record);

    /**
     * Carries over what a replay cannot know (e.g. when a version was first processed) from the live tables
     * ({@code live} schema) into the rebuilt ones. Runs twice: before the switch for every row ({@code replayedSince}
     * null), then in the switch transaction, live writers held, for the rows replayed since the first run began.
     */
    default Uni<Void> carryOver(SqlConnection conn, String live, String rebuilt, Instant replayedSince) {
        return Uni.createFrom().voidItem();
    }
}
