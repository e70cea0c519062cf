package io.readside.projection;

import java.time.Duration;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * One Kafka Admin client of Readside's own (named by its client id, so that the broker's logs and quotas tell them
 * apart), created on first use, not at start; its calls time out after {@code callTimeout} unless given their own.
 * Thread-safe. Once closed, it creates no client again.
 */
public final class BrokerAdmin implements AutoCloseable {

    private final String bootstrapServers;
    private final String clientId;
    private final Duration callTimeout;
    private Admin admin;
    private boolean closed;

    public BrokerAdmin(String bootstrapServers, String clientId, Duration callTimeout) {
        this.bootstrapServers = bootstrapServers;
        this.clientId = clientId;
        this.callTimeout = callTimeout;
    }

    /**
     * The client, created on first use.
     *
     * @throws IllegalStateException once closed (shutting down)
     */
    public synchronized Admin get() {
        if (closed) {
            throw new IllegalStateException(clientId + " is closed: shutting down");
        }
        if (admin == null) {
            admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) callTimeout.toMillis(),
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) callTimeout.toMillis(),
                    AdminClientConfig.CLIENT_ID_CONFIG, clientId));
        }
        return admin;
    }

    /** Closes the client, if one was created (waits up to 2 s for calls in flight). */
    @Override
    public synchronized void close() {
        closed = true;
        if (admin != null) {
            admin.close(Duration.ofSeconds(2));
        }
    }
}
