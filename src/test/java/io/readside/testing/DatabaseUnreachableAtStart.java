package io.readside.testing;

import java.util.List;
import java.util.Map;

/**
 * As {@link RealInfrastructure}, with a broker and a database of its own, the database unreachable for the service
 * until a test opens {@link GatedPostgresResource#gate()}, and an outbox poll so rare (10 min) that only LISTEN/NOTIFY
 * can explain a prompt publish; outputs count as held after 5 s instead of a minute.
 */
public class DatabaseUnreachableAtStart extends RealInfrastructure {

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(KafkaBrokerResource.class, Map.of(), true),
                new TestResourceEntry(GatedPostgresResource.class));
    }

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("readside.outbox.poll-interval", "10m", "readside.outbox.max-unpublished-age", "5s");
    }
}
