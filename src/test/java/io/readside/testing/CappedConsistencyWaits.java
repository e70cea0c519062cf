package io.readside.testing;

import java.util.Map;

/**
 * As {@link RealInfrastructure} with a broker and a database of its own, at most 100 reads waiting for a
 * consistency token at once (60 per caller), and a wait long enough to outlast the test: a test holds 100 waits open while it
 * checks what the service still does.
 */
public class CappedConsistencyWaits extends RealInfrastructure {

    public static final int MAX_WAITS = 100;
    /** the places one caller (a token's subject) may hold */
    public static final int MAX_WAITS_PER_CALLER = 60;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("readside.consistency.max-waits", Integer.toString(MAX_WAITS),
                "readside.consistency.max-waits-per-caller", Integer.toString(MAX_WAITS_PER_CALLER),
                "readside.consistency.max-wait", "10m",
                // RestAssured's read timeout (30 s by default): the held waits outlast it on a loaded machine
                "quarkus.http.test-timeout", "10m");
    }
}
