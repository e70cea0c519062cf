package io.readside.projection.consistency;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.CappedConsistencyWaits;
import io.readside.testing.HeldRelay;
import io.readside.testing.Tokens;
import io.restassured.http.ContentType;
import io.vertx.mutiny.sqlclient.Pool;

/**
 * A read waiting for a consistency token whose client goes away gives its place back there and then, not at
 * {@code readside.consistency.max-wait} (10 minutes in this profile): clients that time out and retry cannot fill the
 * instance's places, nor their caller's, with waits nobody will read. Their requests end with 499 (client closed
 * request) and run no query.
 */
@QuarkusTest
@TestProfile(CappedConsistencyWaits.class)
class HungUpWaitsGiveTheirPlacesBackTest {

    private static final long WAITING_USER = 740_501;
    private static final int CLIENTS = 20;
    private static final Duration GENEROUS = Duration.ofMinutes(2);

    @Inject
    Pool pool;
    @Inject
    ConsistencyGate gate;
    @Inject
    MeterRegistry meters;

    @TestHTTPResource("/")
    URL api;

    @Test
    void waitsWhoseClientsHangUpAreEndedAndTheirPlacesGivenBack() throws Exception {
        List<Socket> clients = new ArrayList<>();
        try (HeldRelay relay = HeldRelay.hold(pool)) {
            // an issued token whose event the relay cannot publish: nothing can satisfy it until the lock goes
            String token = given().contentType(ContentType.JSON)
                    .body("{\"user_id\":" + WAITING_USER + ",\"category\":\"books\",\"total\":\"3.00\"}")
                    .post("/orders").then().statusCode(202).extract().header(ConsistencyToken.HEADER);
            String request = "GET /orders?userId=" + WAITING_USER + " HTTP/1.1\r\nHost: localhost\r\n"
                    + "Authorization: " + Tokens.bearer(Tokens.operator()) + "\r\n"
                    + ConsistencyToken.HEADER + ": " + token + "\r\n\r\n";
            Map<String, Long> before = answeredReadsSince(Map.of());
            for (int i = 0; i < CLIENTS; i++) {
                Socket client = new Socket(api.getHost(), api.getPort());
                clients.add(client);
                OutputStream out = client.getOutputStream();
                out.write(request.getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            await().atMost(GENEROUS).until(() -> gate.waitsInProgress() == CLIENTS);
            assertEquals(1, gate.callersHoldingPlaces(), "one caller holds all the places");

            for (Socket client : clients) {
                client.close(); // the clients give up, long before max-wait
            }
            await().atMost(GENEROUS).until(() -> gate.waitsInProgress() == 0);
            assertEquals(0, gate.callersHoldingPlaces(), "the caller's places were given back with them");
            // each ended request is recorded twice: the connection's reset, and the status its handling ended with
            await().atMost(GENEROUS).until(() -> answeredReadsSince(before).values().stream().mapToLong(n -> n)
                    .sum() == CLIENTS);
            assertEquals(Map.of("499", (long) CLIENTS), answeredReadsSince(before),
                    "the hung-up reads ended with 499 (client closed request): none went on to run its query");
        } finally {
            for (Socket client : clients) {
                client.close();
            }
        }
    }

    /**
     * GET /orders requests since {@code before} (other tests' of this profile are counted too) by the status their
     * handling ended with, not the connection resets.
     */
    private Map<String, Long> answeredReadsSince(Map<String, Long> before) {
        Map<String, Long> byStatus = new TreeMap<>();
        for (Timer timer : meters.find("http.server.requests").tag("method", "GET").tag("uri", "/orders").timers()) {
            String status = timer.getId().getTag("status");
            long since = timer.count() - before.getOrDefault(status, 0L);
            if (!"RESET".equals(status) && since > 0) {
                byStatus.merge(status, since, Long::sum);
            }
        }
        return byStatus;
    }
}
