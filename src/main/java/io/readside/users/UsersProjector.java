package io.readside.users;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Incoming;

import io.readside.projection.Batch;
import io.readside.projection.Committed;
import io.readside.projection.Projector;
import io.readside.projection.replay.Replayable;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/** Projects topic {@code user-events} into table {@code users}. */
@ApplicationScoped
public class UsersProjector implements Replayable<UserEvent> {

    public static final String CHANNEL = "user-events";

    /**
     * A signup or an email change. The topic is compacted, so a user's signup may be gone and a later event is the
     * first one seen: it creates the row, with the signup time unknown until a signup says it.
     */
    static final String UPSERT = """
            INSERT INTO users AS u (user_id, email, signed_up_at, updated_at, source_partition, source_offset)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (user_id) DO UPDATE
                SET email = EXCLUDED.email,
                    signed_up_at = COALESCE(u.signed_up_at, EXCLUDED.signed_up_at),
                    updated_at = EXCLUDED.updated_at,
                    source_partition = EXCLUDED.source_partition,
                    source_offset = EXCLUDED.source_offset""";

    static final String ERASE = "DELETE FROM users WHERE user_id = $1";

    @Inject
    Projector engine;

    @ConfigProperty(name = "mp.messaging.incoming." + CHANNEL + ".group.id")
    String group;
    @ConfigProperty(name = "mp.messaging.incoming." + CHANNEL + ".topic")
    String topic;

    /** A record of user-events: a batch of one (see {@link Projector}). */
    @Incoming(CHANNEL)
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

    /** The events one after the other, in offset order (a user's erasure and signup may follow each other). */
    @Override
    public Uni<Committed> write(SqlConnection conn, Batch<UserEvent> batch) {
        Uni<Void> written = Uni.createFrom().voidItem();
        for (Batch.Input<UserEvent> input : batch.inputs()) {
            written = written.chain(() -> write(conn, input.event(), input.record()));
        }
        return written.replaceWith(Committed.NOTHING);
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
        return List.of("users");
    }

    private static Uni<Void> write(SqlConnection conn, UserEvent event, ConsumerRecord<?, ?> record) {
        if (event.kind() == UserEvent.Kind.ERASED) {
            return conn.preparedQuery(ERASE).execute(Tuple.of(event.userId())).replaceWithVoid();
        }
        return conn.preparedQuery(UPSERT).execute(Tuple.from(new Object[] {
                event.userId(),
                event.email(),
                event.kind() == UserEvent.Kind.SIGNUP ? offsetDateTime(event.occurredAt()) : null,
                offsetDateTime(event.occurredAt()),
                record.partition(),
                record.offset() })).replaceWithVoid();
    }

    private static OffsetDateTime offsetDateTime(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }
}
