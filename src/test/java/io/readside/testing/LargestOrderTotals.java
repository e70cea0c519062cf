package io.readside.testing;

import java.util.HashMap;
import java.util.Map;

/**
 * As {@link RealInfrastructure}, with the largest order total the configuration allows
 * (application.properties: "at most 999999999999.99: the columns are numeric(14,2)"): before V10, a user's
 * total_spent (numeric(16,2)) overflowed at the 101st such order.
 */
public class LargestOrderTotals extends RealInfrastructure {

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> overrides = new HashMap<>(super.getConfigOverrides());
        overrides.put("readside.orders.max-total", "999999999999.99");
        return overrides;
    }
}
