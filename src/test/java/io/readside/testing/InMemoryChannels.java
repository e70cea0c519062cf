package io.readside.testing;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.readside.orders.OrdersProjector;
import io.readside.projection.DeadLetters;
import io.readside.users.UsersProjector;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;

/** The fast tier: incoming channels fed in memory by the test, read models in a real PostgreSQL. */
public class InMemoryChannels implements QuarkusTestProfile {

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(PostgresResource.class), new TestResourceEntry(Switch.class));
    }

    public static class Switch implements QuarkusTestResourceLifecycleManager {

        @Override
        public Map<String, String> start() {
            Map<String, String> config = new HashMap<>();
            config.putAll(InMemoryConnector.switchIncomingChannelsToInMemory(UsersProjector.CHANNEL,
                    OrdersProjector.CHANNEL));
            config.putAll(InMemoryConnector.switchOutgoingChannelsToInMemory(DeadLetters.CHANNEL));
            config.put("mp.messaging.incoming." + UsersProjector.CHANNEL + ".run-on-vertx-context", "true");
            config.put("mp.messaging.incoming." + OrdersProjector.CHANNEL + ".run-on-vertx-context", "true");
            return config;
        }

        @Override
        public void stop() {
            InMemoryConnector.clear();
        }
    }
}
