package io.readside.projection;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The positions a read model has applied, per consumer group, topic and partition (table
 * {@code projection_positions}): the next offset to apply and the partition's stream time (the latest event time
 * applied from it). They commit in the transaction of the changes they stand for, so a record is applied at most
 * once.
 */
public final class Positions {

    /** A partition's stored position: the next offset to apply (0: none applied) and its stream time (or null). */
    public record Position(long nextOffset, Instant streamTime) {
        static final Position NONE = new Position(0, null);
    }

    /** Locks the partitions' position rows for the transaction (rows not there yet are claimed by insert). */
    static final String LOCK = """
            SELECT kafka_partition, next_offset, stream_time FROM projection_positions
             WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = ANY($3)
               FOR UPDATE""";

    /**
     * Takes the offsets {@code first..next-1} of a partition for this transaction, provided nothing at or after
     * {@code first} was applied meanwhile (by a stale owner of the partition, say).
     */
    static final String CLAIM_RANGE = """
            INSERT INTO projection_positions AS p (consumer_group, topic, kafka_partition, next_offset, updated_at)
            VALUES ($1, $2, $3, $5, now())
            ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE
                SET next_offset = EXCLUDED.next_offset, updated_at = EXCLUDED.updated_at
                WHERE p.next_offset <= $4""";

    static final String ADVANCE_STREAM_TIME = """
            UPDATE projection_positions SET stream_time = GREATEST(stream_time, $4)
             WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3""";

    private Positions() {
    }

    /** Another writer applied records of the batch first; the batch is read again from the stored positions. */
    public static final class PositionMovedException extends RuntimeException {
        PositionMovedException(String topic, int partition, long first) {
            super("position of " + topic + "-" + partition + " moved past " + first + " meanwhile");
        }
    }

    /** The partitions' positions, locked until the transaction ends (absent: none applied yet). */
    static Uni<Map<Integer, Position>> lock(SqlConnection conn, String group, String topic,
            Collection<Integer> partitions) {
        return conn.preparedQuery(LOCK).execute(Tuple.of(group, topic, partitions.toArray(new Integer[0])))
                .map(rows -> {
                    Map<Integer, Position> positions = new HashMap<>();
                    rows.forEach(row -> {
                        OffsetDateTime streamTime = row.getOffsetDateTime(2);
                        positions.put(row.getInteger(0), new Position(row.getLong(1),
                                streamTime == null ? null : streamTime.toInstant()));
                    });
                    return positions;
                });
    }

    /** See {@link #CLAIM_RANGE}; fails with {@link PositionMovedException} if the position moved. */
    static Uni<Void> claim(SqlConnection conn, String group, String topic, int partition, long first, long next) {
        return conn.preparedQuery(CLAIM_RANGE).execute(Tuple.of(group, topic, partition, first, next))
                .map(rows -> {
                    if (rows.rowCount() != 1) {
                        throw new PositionMovedException(topic, partition, first);
                    }
                    return null;
                });
    }

    static Uni<Void> advanceStreamTime(SqlConnection conn, String group, String topic, int partition,
            Instant streamTime) {
        return conn.preparedQuery(ADVANCE_STREAM_TIME)
                .execute(Tuple.of(group, topic, partition, streamTime.atOffset(ZoneOffset.UTC))).replaceWithVoid();
    }
}
