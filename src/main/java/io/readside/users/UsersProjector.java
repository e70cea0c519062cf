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

import io.readside.projection.InvalidRecordException;
import io.readside.projection.RecordApplier;
import io.readside.projection.replay.Replayable;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/** Projects topic {@code user-events} into table {@code users}. */
@ApplicationScoped
public class UsersProjector implements Replayable {

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
    RecordApplier applier;

    @ConfigProperty(name = "mp.messaging.incoming." + CHANNEL + ".group.id")
    String group;
    @ConfigProperty(name = "mp.messaging.incoming." + CHANNEL + ".topic")
    String topic;

    @Incoming(CHANNEL)
    public Uni<Void> apply(ConsumerRecord<byte[], byte[]> record) {
        UserEvent event;
        try {
            event = UserEvent.parse(record.key(), record.value());
        } catch (InvalidRecordException e) {
            return applier.reject(CHANNEL, group, record, e).replaceWithVoid();
        }
        return applier.applyOnce(CHANNEL, group, record, conn -> write(conn, event, record)).replaceWithVoid();
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

    @Override
    public Uni<Boolean> replay(SqlConnection conn, ConsumerRecord<byte[], byte[]> record) {
        UserEvent event;
        try {
            event = UserEvent.parse(record.key(), record.value());
        } catch (InvalidRecordException e) {
            return Uni.createFrom().item(false);
        }
        return write(conn, event, record).replaceWith(true);
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
