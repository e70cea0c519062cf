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

    static final String READ = """
            SELECT kafka_partition, next_offset, stream_time FROM projection_positions
             WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = ANY($3)""";

    /** Locks the partitions' position rows for the transaction (rows not there yet are claimed by insert). */
    static final String LOCK = READ + "\n   FOR UPDATE";

    /**
     * Takes, for each partition, the offsets {@code first..next-1} for this transaction, provided nothing at or after
     * {@code first} was applied meanwhile (by a stale owner of the partition, say): a partition whose position moved is
     * neither updated nor returned. One statement for the batch's partitions, in partition order.
     */
    static final String CLAIM_RANGES = """
            INSERT INTO projection_positions AS p (consumer_group, topic, kafka_partition, next_offset, updated_at)
            SELECT $1, $2, r.kafka_partition, r.next_offset, now()
              FROM unnest($3::int[], $5::bigint[]) AS r(kafka_partition, next_offset)
             ORDER BY r.kafka_partition
            ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE
                SET next_offset = EXCLUDED.next_offset, updated_at = EXCLUDED.updated_at
                WHERE p.next_offset <= (SELECT f.first_offset FROM unnest($3::int[], $4::bigint[])
                                            AS f(kafka_partition, first_offset)
                                         WHERE f.kafka_partition = p.kafka_partition)
            RETURNING kafka_partition""";

    /** Each partition's stream time moves to the later of its own and the batch's. */
    static final String ADVANCE_STREAM_TIMES = """
            UPDATE projection_positions p SET stream_time = GREATEST(p.stream_time, t.stream_time)
              FROM unnest($3::int[], $4::timestamptz[]) AS t(kafka_partition, stream_time)
             WHERE p.consumer_group = $1 AND p.topic = $2 AND p.kafka_partition = t.kafka_partition""";

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
        return read(conn, LOCK, group, topic, partitions);
    }

    /** The partitions' positions as committed now, not locked (absent: none applied yet). */
    static Uni<Map<Integer, Position>> read(io.vertx.mutiny.sqlclient.SqlClient client, String group, String topic,
            Collection<Integer> partitions) {
        return read(client, READ, group, topic, partitions);
    }

    private static Uni<Map<Integer, Position>> read(io.vertx.mutiny.sqlclient.SqlClient client, String sql,
            String group, String topic, Collection<Integer> partitions) {
        return client.preparedQuery(sql).execute(Tuple.of(group, topic, partitions.toArray(new Integer[0])))
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

    /**
     * See {@link #CLAIM_RANGES}; {@code ranges}: partition to {first, next}. Fails with
     * {@link PositionMovedException} if a position moved.
     */
    static Uni<Void> claim(SqlConnection conn, String group, String topic, Map<Integer, long[]> ranges) {
        Integer[] partitions = ranges.keySet().toArray(new Integer[0]);
        Long[] first = new Long[partitions.length];
        Long[] next = new Long[partitions.length];
        for (int i = 0; i < partitions.length; i++) {
            first[i] = ranges.get(partitions[i])[0];
            next[i] = ranges.get(partitions[i])[1];
        }
        return conn.preparedQuery(CLAIM_RANGES).execute(Tuple.of(group, topic, partitions, first, next))
                .map(rows -> {
                    if (rows.rowCount() != partitions.length) {
                        java.util.Set<Integer> claimed = new java.util.HashSet<>();
                        rows.forEach(row -> claimed.add(row.getInteger(0)));
                        for (Integer partition : partitions) {
                            if (!claimed.contains(partition)) {
                                throw new PositionMovedException(topic, partition, ranges.get(partition)[0]);
                            }
                        }
                    }
                    return null;
                });
    }

    /** See {@link #ADVANCE_STREAM_TIMES}; {@code streamTimes}: partition to its stream time after the batch. */
    static Uni<Void> advanceStreamTimes(SqlConnection conn, String group, String topic,
            Map<Integer, Instant> streamTimes) {
        Integer[] partitions = streamTimes.keySet().toArray(new Integer[0]);
        OffsetDateTime[] times = new OffsetDateTime[partitions.length];
        for (int i = 0; i < partitions.length; i++) {
            times[i] = streamTimes.get(partitions[i]).atOffset(ZoneOffset.UTC);
        }
        return conn.preparedQuery(ADVANCE_STREAM_TIMES).execute(Tuple.of(group, topic, partitions, times))
                .replaceWithVoid();
    }
}
