package io.readside.testing;

import java.util.Map;

/**
 * As {@link RealInfrastructure} with a broker and a database of its own, a payment time-out of 5 s, a lag
 * measurement every second, and a pausable payments channel: a test holds the payments consumer back past the
 * time-out.
 */
public class ShortPaymentTimeout extends RealInfrastructure {

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("readside.saga.payment-timeout", "5s",
                "readside.lag.interval", "1s",
                "mp.messaging.incoming.payments.pausable", "true");
    }
}
