package io.readside.testing;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The service with its GET queries on a real streaming replica ({@link StreamingReplicaResource}), a real broker, and
 * replicas checked every second, out of the rotation past 2 s of lag.
 */
public class ReplicaInfrastructure implements QuarkusTestProfile {

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(KafkaBrokerResource.class, Map.of(), true),
                new TestResourceEntry(StreamingReplicaResource.class));
    }

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> config = new HashMap<>(Tokens.trust());
        config.put("readside.query.replica-check-every", "1s");
        config.put("readside.query.max-replica-lag", "2s");
        return config;
    }
}
