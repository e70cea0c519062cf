package io.readside.users;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import io.readside.projection.Batch;
import io.readside.projection.Committed;
import io.readside.projection.InTurn;
import io.readside.projection.Projector;
import io.readside.projection.replay.Replayable;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/** Projects topic {@code user-events} into table {@code users}. */
@ApplicationScoped
public class UsersProjector implements Replayable<UserEvent> {

    private static final Logger LOG = Logger.getLogger(UsersProjector.class);

    public static final String CHANNEL = "user-events";

    /**
     * A signup or an email change. The topic is compacted, so a user's signup may be gone and a later event is the
     * first one seen: it creates the row, with the signup time unknown until a signup says it. A user written again
     * after its erasure is no longer erased: its marker goes (on another partition, after partitions were added, it
     * would otherwise make every later version look older than the erasure).
     */
    static final String UPSERT = """
            WITH unerased AS (DELETE FROM users_erased WHERE user_id = $1)
            INSERT INTO users AS u (user_id, email, signed_up_at, updated_at, source_partition, source_offset)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (user_id) DO UPDATE
                SET email = EXCLUDED.email,
                    signed_up_at = COALESCE(u.signed_up_at, EXCLUDED.signed_up_at),
                    updated_at = EXCLUDED.updated_at,
                    source_partition = EXCLUDED.source_partition,
                    source_offset = EXCLUDED.source_offset""";

    /** The row goes; the id and the tombstone's position stay (users_erased), so that redrive knows it is newer. */
    static final String ERASE = """
            WITH erased AS (DELETE FROM users WHERE user_id = $1)
            INSERT INTO users_erased (user_id, source_partition, source_offset) VALUES ($1, $2, $3)
            ON CONFLICT (user_id) DO UPDATE
               SET source_partition = EXCLUDED.source_partition, source_offset = EXCLUDED.source_offset""";

    @Inject
    Projector engine;

    @ConfigProperty(name = "mp.messaging.incoming." + CHANNEL + ".group.id")
    String group;
    @ConfigProperty(name = "mp.messaging.incoming." + CHANNEL + ".topic")
    String topic;

    /**
     * A poll of user-events: one transaction, its events one after the other in offset order, acknowledged once
     * committed (see {@link Projector}).
     */
    @Incoming(CHANNEL)
    public Uni<Void> applyBatch(KafkaRecordBatch<byte[], byte[]> polled) {
        return engine.apply(this, polled);
    }

    /** One record on its own: a batch of one, the same path. */
    public Uni<Void> apply(ConsumerRecord<byte[], byte[]> record) {
        return engine.apply(this, record);
    }

    @Override
    public UserEvent parse(ConsumerRecord<byte[], byte[]> record) {
        return UserEvent.parse(record.key(), record.value());
    }

    /** Signups and email changes do not close anything: the topic has no stream time. */
    @Override
    public Instant eventTime(UserEvent event) {
        return null;
    }

    /**
     * The events one after the other, in offset order (a user's erasure and signup may follow each other): each run
     * of writes, or of erasures, one statement executed once per event in a single round trip, the runs in turn (a
     * poll of alternating events is a run per record).
     */
    @Override
    public Uni<Committed> write(SqlConnection conn, Batch<UserEvent> batch) {
        return InTurn.each(runs(batch.inputs()), run -> conn.preparedQuery(run.statement()).executeBatch(run.tuples()))
                .replaceWith(Committed.NOTHING);
    }

    /** Consecutive events of one statement, the parameters of each. */
    private record Run(String statement, List<Tuple> tuples) {
    }

    private static List<Run> runs(List<Batch.Input<UserEvent>> inputs) {
        List<Run> runs = new ArrayList<>();
        for (Batch.Input<UserEvent> input : inputs) {
            UserEvent event = input.event();
            ConsumerRecord<?, ?> record = input.record();
            boolean erased = event.kind() == UserEvent.Kind.ERASED;
            String statement = erased ? ERASE : UPSERT;
            Tuple tuple = erased ? Tuple.of(event.userId(), record.partition(), record.offset())
                    : Tuple.from(new Object[] {
                            event.userId(),
                            event.email(),
                            event.kind() == UserEvent.Kind.SIGNUP ? offsetDateTime(event.occurredAt()) : null,
                            offsetDateTime(event.occurredAt()),
                            record.partition(),
                            record.offset() });
            if (runs.isEmpty() || !runs.get(runs.size() - 1).statement().equals(statement)) {
                runs.add(new Run(statement, new ArrayList<>()));
            }
            runs.get(runs.size() - 1).tuples().add(tuple);
        }
        return runs;
    }

    /** A user last written, or erased, from another partition, or from a later record of this one. */
    static final String NEWER_VERSION_APPLIED = """
            SELECT EXISTS (SELECT 1 FROM users
                            WHERE user_id = $1 AND (source_partition <> $2 OR source_offset > $3))
                OR EXISTS (SELECT 1 FROM users_erased
                            WHERE user_id = $1 AND (source_partition <> $2 OR source_offset > $3))""";

    @Override
    public Uni<Boolean> newerVersionApplied(SqlClient client, byte[] key, int partition, long offset) {
        String text = key == null || key.length > 20 ? "" : new String(key, StandardCharsets.US_ASCII);
        long userId;
        try {
            userId = Long.parseLong(text);
        } catch (NumberFormatException e) { // not a user id: no user row is its entity
            return Uni.createFrom().item(false);
        }
        return client.preparedQuery(NEWER_VERSION_APPLIED).execute(Tuple.of(userId, partition, offset))
                .map(rows -> rows.iterator().next().getBoolean(0));
    }

    @Override
    public String channel() {
        return CHANNEL;
    }

    @Override
    public String readModel() {
        return "users";
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public String group() {
        return group;
    }

    @Override
    public List<String> tables() {
        return List.of("users", "users_erased");
    }

    /**
     * A signup compacted away behind a later event is not in the topic any more, but the live row may have learnt its
     * time when it still was: a rebuilt row without a signup time keeps the live one's.
     */
    static final String KEEP_SIGNED_UP_AT = """
            UPDATE %2$s.users r SET signed_up_at = l.signed_up_at
              FROM %1$s.users l
             WHERE l.user_id = r.user_id AND r.signed_up_at IS NULL AND l.signed_up_at IS NOT NULL""";

    /** An erasure whose tombstone has left the compacted topic is still known after the rebuild. */
    static final String KEEP_ERASURES = """
            INSERT INTO %2$s.users_erased SELECT l.* FROM %1$s.users_erased l
             WHERE NOT EXISTS (SELECT 1 FROM %2$s.users r WHERE r.user_id = l.user_id)
            ON CONFLICT (user_id) DO NOTHING""";

    /**
     * Users whose last write (row or erasure) came from another partition in the rebuilt tables than in the live ones.
     * After partitions were added a user's events may be on two partitions; live applied them as they came, a rebuild
     * replays the partitions side by side, in another order. Asked in the switch only, where live and rebuilt have
     * applied the same records: those users are taken as live has them ({@link #TAKE_LIVE}).
     */
    static final String DECIDED_ELSEWHERE = """
            SELECT l.user_id
              FROM (SELECT user_id, source_partition FROM %1$s.users
                    UNION ALL SELECT user_id, source_partition FROM %1$s.users_erased) l
              JOIN (SELECT user_id, source_partition FROM %2$s.users
                    UNION ALL SELECT user_id, source_partition FROM %2$s.users_erased) r USING (user_id)
             WHERE l.source_partition <> r.source_partition
             ORDER BY l.user_id""";

    /** The live row or erasure of each user of $1 replaces the rebuilt one, in both tables. */
    static final List<String> TAKE_LIVE = List.of("""
            DELETE FROM %2$s.users r WHERE r.user_id = ANY($1)
               AND NOT EXISTS (SELECT 1 FROM %1$s.users l WHERE l.user_id = r.user_id)""", """
            DELETE FROM %2$s.users_erased r WHERE r.user_id = ANY($1)
               AND NOT EXISTS (SELECT 1 FROM %1$s.users_erased l WHERE l.user_id = r.user_id)""", """
            INSERT INTO %2$s.users SELECT l.* FROM %1$s.users l WHERE l.user_id = ANY($1)
            ON CONFLICT (user_id) DO UPDATE
               SET email = EXCLUDED.email, signed_up_at = EXCLUDED.signed_up_at, updated_at = EXCLUDED.updated_at,
                   source_partition = EXCLUDED.source_partition, source_offset = EXCLUDED.source_offset""", """
            INSERT INTO %2$s.users_erased SELECT l.* FROM %1$s.users_erased l WHERE l.user_id = ANY($1)
            ON CONFLICT (user_id) DO UPDATE
               SET source_partition = EXCLUDED.source_partition, source_offset = EXCLUDED.source_offset""");

    @Override
    public Uni<Void> carryOver(SqlConnection conn, String live, String rebuilt, Instant replayedSince) {
        Uni<Void> decided = replayedSince == null ? Uni.createFrom().voidItem()
                : conn.query(DECIDED_ELSEWHERE.formatted(live, rebuilt)).execute().flatMap(found -> {
                    List<Long> ids = new ArrayList<>();
                    found.forEach(row -> ids.add(row.getLong(0)));
                    if (ids.isEmpty()) {
                        return Uni.createFrom().voidItem();
                    }
                    LOG.warnf("rebuild of users: %d users were last written from another partition in the replay "
                            + "than live (partitions replay side by side, not in the order live applied them): taken "
                            + "as live has them (the first: %s)", ids.size(), ids.subList(0, Math.min(10, ids.size())));
                    Tuple users = Tuple.of(ids.toArray(new Long[0]));
                    Uni<Void> taken = Uni.createFrom().voidItem();
                    for (String statement : TAKE_LIVE) {
                        taken = taken.chain(() -> conn.preparedQuery(statement.formatted(live, rebuilt))
                                .execute(users).replaceWithVoid());
                    }
                    return taken;
                });
        return decided.chain(() -> conn.query(KEEP_SIGNED_UP_AT.formatted(live, rebuilt)).execute())
                .chain(() -> conn.query(KEEP_ERASURES.formatted(live, rebuilt)).execute()).replaceWithVoid();
    }

    private static OffsetDateTime offsetDateTime(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }
}
