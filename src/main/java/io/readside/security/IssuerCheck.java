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
 * Says at start when token verification is not configured: without a key every API call is a 401, which would
 * otherwise look like a client problem; without an issuer a token's {@code iss} is not checked.
 */
@ApplicationScoped
public class IssuerCheck {

    private static final Logger LOG = Logger.getLogger(IssuerCheck.class);

    void atStart(@Observes StartupEvent start, Config config) {
        List<String> missing = missing(config.getOptionalValue("mp.jwt.verify.issuer", String.class),
                config.getOptionalValue("mp.jwt.verify.publickey.location", String.class),
                config.getOptionalValue("mp.jwt.verify.publickey", String.class));
        if (missing.contains("mp.jwt.verify.publickey.location")) {
            LOG.warn("no key to verify bearer tokens is configured: every API call will be refused with 401. Set "
                    + "MP_JWT_VERIFY_PUBLICKEY_LOCATION and MP_JWT_VERIFY_ISSUER"
                    + " (docs/http-and-security.md, Security)");
        } else if (!missing.isEmpty()) {
            LOG.warn("no bearer-token issuer is configured: a token's \"iss\" is not checked, so any issuer whose "
                    + "tokens that key verifies is trusted. Set MP_JWT_VERIFY_ISSUER"
                    + " (docs/http-and-security.md, Security)");
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
