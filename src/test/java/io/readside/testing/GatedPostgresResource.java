package io.readside.testing;

import java.net.URI;
import java.util.HashMap;
import java.util.Map;

import io.readside.dev.EmbeddedPostgresql;

/**
 * As {@link PostgresResource}, with the service's reactive connections (its pool, the outbox relay's LISTEN and
 * lock sessions) going through a {@link DatabaseGate} that is shut when the service starts: the database is
 * unreachable for the running service until a test opens the gate. Flyway (JDBC) reaches it directly, so the
 * schema is in place at start as in production, where migrations run before the service takes traffic.
 */
public class GatedPostgresResource extends PostgresResource {

    private static DatabaseGate gate;

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>(super.start());
        int port = URI.create(config.get("quarkus.datasource.reactive.url")).getPort();
        synchronized (GatedPostgresResource.class) {
            gate = DatabaseGate.shut(port);
            config.put("quarkus.datasource.reactive.url", gate.reactiveUrl(EmbeddedPostgresql.DATABASE));
        }
        return config;
    }

    public static synchronized DatabaseGate gate() {
        if (gate == null) {
            throw new IllegalStateException("no gated PostgreSQL is running for this application");
        }
        return gate;
    }

    @Override
    public void stop() {
        synchronized (GatedPostgresResource.class) {
            if (gate != null) {
                gate.close();
                gate = null;
            }
        }
        super.stop();
    }
}
