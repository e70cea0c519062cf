package io.readside.testing;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * A free management port for the packaged application of a @QuarkusIntegrationTest: it runs with the prod profile,
 * where the port would be 9000 for every build on the machine.
 */
public class ManagementPortResource implements QuarkusTestResourceLifecycleManager {

    /** A system property of the test JVM, for *IT tests, which cannot read the application's config. */
    static final String PORT_PROPERTY = "readside.test.management-port";

    @Override
    public Map<String, String> start() {
        String port = String.valueOf(LocalHost.freePort());
        System.setProperty(PORT_PROPERTY, port);
        return Map.of("quarkus.management.port", port, "quarkus.management.test-port", port);
    }

    @Override
    public void stop() {
        System.clearProperty(PORT_PROPERTY);
    }
}
