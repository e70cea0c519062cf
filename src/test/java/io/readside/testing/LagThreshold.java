package io.readside.testing;

import java.util.Map;

/**
 * The real infrastructure, with a lag threshold on readiness, a lag measurement every second, and a pausable
 * orders channel, so that a test can hold a backlog.
 */
public class LagThreshold extends RealInfrastructure {

    public static final long MAX_LAG_RECORDS = 50;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "readside.health.max-lag-records", Long.toString(MAX_LAG_RECORDS),
                "readside.lag.interval", "1s",
                "mp.messaging.incoming.orders.pausable", "true");
    }
}
