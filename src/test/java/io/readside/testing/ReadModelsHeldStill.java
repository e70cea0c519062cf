package io.readside.testing;

import java.util.Map;

/**
 * As {@link CommandsInfrastructure}, with stopped read models left to themselves for an hour (no catch-up, no fill): a
 * test sets a read model's state in PostgreSQL and sees what the service does with it.
 */
public class ReadModelsHeldStill extends CommandsInfrastructure {

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("readside.read-models.catch-up-every", "1h", "readside.read-models.backfill-after", "1h");
    }
}
