package io.readside.testing;

import java.util.List;
import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/** The service as deployed: Kafka channels on a real broker, read models in a real PostgreSQL. */
public class RealInfrastructure implements QuarkusTestProfile {

    @Override
    public List<TestResourceEntry> testResources() {
        // the broker starts beside PostgreSQL (parallel), not after it: a second less at each profile's start
        return List.of(new TestResourceEntry(KafkaBrokerResource.class, Map.of(), true),
                new TestResourceEntry(PostgresResource.class));
    }

    /** What the test profile already says; the packaged jar of {@code ServiceIT} runs without it and needs it given. */
    @Override
    public Map<String, String> getConfigOverrides() {
        return Tokens.trust();
    }
}
