package io.readside.security;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

import io.quarkus.runtime.StartupEvent;

/**
 * Says at start when no token issuer is configured: the service then refuses every API call with 401, which would
 * otherwise look like a client problem. Health and metrics (management port) are unaffected.
 */
@ApplicationScoped
public class IssuerCheck {

    private static final Logger LOG = Logger.getLogger(IssuerCheck.class);

    void atStart(@Observes StartupEvent start, Config config) {
        List<String> missing = missing(config.getOptionalValue("mp.jwt.verify.issuer", String.class),
                config.getOptionalValue("mp.jwt.verify.publickey.location", String.class),
                config.getOptionalValue("mp.jwt.verify.publickey", String.class));
        if (!missing.isEmpty()) {
            LOG.warnf("no bearer-token issuer is configured (%s): every API call will be refused with 401. Set "
                    + "MP_JWT_VERIFY_ISSUER and MP_JWT_VERIFY_PUBLICKEY_LOCATION (README, Security)",
                    String.join(" and ", missing));
        }
    }

    /** The settings a deployment lacks to verify tokens; empty with an issuer and a key (a location or inline). */
    static List<String> missing(Optional<String> issuer, Optional<String> keyLocation, Optional<String> key) {
        List<String> missing = new ArrayList<>();
        if (issuer.filter(value -> !value.isBlank()).isEmpty()) {
            missing.add("mp.jwt.verify.issuer");
        }
        boolean noKey = keyLocation.filter(value -> !value.isBlank()).isEmpty()
                && key.filter(value -> !value.isBlank()).isEmpty();
        if (noKey) {
            missing.add("mp.jwt.verify.publickey.location");
        }
        return missing;
    }
}
