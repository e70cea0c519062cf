package io.readside.testing;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * As {@link CommandsInfrastructure} (a broker and a database of its own), with the finished spans kept in memory
 * ({@link InMemorySpans}) and handed over every 100 ms rather than every 5 s.
 */
public class TracedCommands extends CommandsInfrastructure {

    @Override
    public Set<Class<?>> getEnabledAlternatives() {
        return Set.of(InMemorySpans.class);
    }

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> config = new HashMap<>(super.getConfigOverrides());
        config.put("quarkus.otel.bsp.schedule.delay", "100ms");
        return config;
    }
}
