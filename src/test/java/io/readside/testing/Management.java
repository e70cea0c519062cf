package io.readside.testing;

import org.eclipse.microprofile.config.ConfigProvider;

import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;

/**
 * Requests to the management interface (health, metrics, /lag, /status) of the application under test, which
 * listens on a port of its own: a random one in @QuarkusTest ({@code %test.quarkus.management.test-port=0}, the
 * port chosen is in the application's config), the one {@link ManagementPortResource} chose for an *IT.
 */
public final class Management {

    private Management() {
    }

    public static int port() {
        String chosen = System.getProperty(ManagementPortResource.PORT_PROPERTY);
        return chosen != null ? Integer.parseInt(chosen)
                : ConfigProvider.getConfig().getValue("quarkus.management.test-port", Integer.class);
    }

    /** RestAssured's {@code given()}, on the management port. */
    public static RequestSpecification given() {
        return RestAssured.given().baseUri("http://localhost").port(port());
    }
}
