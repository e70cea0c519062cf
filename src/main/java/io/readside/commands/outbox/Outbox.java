package io.readside.commands.outbox;

import java.util.List;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Writes to the transactional outbox, always on the connection of the transaction whose change the message
 * announces: both commit or neither does. {@link OutboxRelay} publishes the rows.
 */
public final class Outbox {

    static final String ADD = """
            INSERT INTO outbox (topic, message_key, event_type, payload) VALUES ($1, $2, $3, $4)
            RETURNING id""";

    static final String ADD_ALL = """
            INSERT INTO outbox (topic, message_key, event_type, payload)
            SELECT $1, r.message_key, $2, r.payload FROM unnest($3::text[], $4::text[]) WITH ORDINALITY
                AS r(message_key, payload, n)
             ORDER BY r.n""";

    private Outbox() {
    }

    /** One message; returns its outbox id. */
    public static Uni<Long> add(SqlConnection conn, String topic, String key, String type, String payload) {
        return conn.preparedQuery(ADD).execute(Tuple.of(topic, key, type, payload))
                .map(rows -> rows.iterator().next().getLong(0));
    }

    /** Messages of one type, in list order. */
    public static Uni<Void> addAll(SqlConnection conn, String topic, String type, List<String> keys,
            List<String> payloads) {
        if (keys.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return conn.preparedQuery(ADD_ALL).execute(Tuple.of(topic, type, keys.toArray(new String[0]),
                payloads.toArray(new String[0]))).replaceWithVoid();
    }
}
