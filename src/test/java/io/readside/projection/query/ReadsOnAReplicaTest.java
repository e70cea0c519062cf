package io.readside.projection.query;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.spi.Bean;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.arc.Arc;
import io.quarkus.arc.ClientProxy;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.consistency.ConsistencyGate;
import io.readside.projection.consistency.ConsistencyToken;
import io.readside.projection.consistency.ConsistentReads;
import io.readside.testing.Management;
import io.readside.testing.ReadLoad;
import io.readside.testing.ReplicaInfrastructure;
import io.readside.testing.StreamingReplicaResource;
import io.restassured.http.ContentType;
import io.restassured.response.Response;

/**
 * GET queries on a real streaming replica: a token's read is answered by the replica once it has replayed the write,
 * or by the primary when it does not in time, never by a replica that lacks the write; a lagging replica leaves the
 * rotation and comes back; a killed replica fails no read.
 */
@QuarkusTest
@TestProfile(ReplicaInfrastructure.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReadsOnAReplicaTest {

    private static final Duration GENEROUS = Duration.ofSeconds(60);

    @Inject
    MeterRegistry registry;
    @Inject
    ReadReplicas replicas;
    @Inject
    ConsistencyGate gate;

    @Test
    @Order(1)
    void aCommandsTokenIsReadOnTheReplicaOnceItHasReplayedTheWrite() {
        awaitInRotation(true);
        double onReplica = reads("replica");
        Response placed = place(810_001);
        String token = placed.header(ConsistencyToken.HEADER);
        String orderId = placed.jsonPath().getString("order_id");
        given().header(ConsistencyToken.HEADER, token).get("/orders/" + orderId).then().statusCode(200)
                .body("user_id", equalTo(810_001));
        given().queryParam(ConsistencyToken.QUERY_PARAMETER, token).queryParam("userId", 810_001).get("/orders")
                .then().statusCode(200).body("orders[0].order_id", equalTo(orderId));
        given().header(ConsistencyToken.HEADER, token).get("/revenue/top?from=" + Instant.now().minusSeconds(3600)
                + "&to=" + Instant.now().plusSeconds(3600)).then().statusCode(200)
                .body("categories[0].category", equalTo("books"));
        assertEquals(onReplica + 3, reads("replica"), "the three reads ran on the replica");
        assertEquals(0, reads("primary", QueryPool.Why.REPLICA_NOT_CAUGHT_UP), "none fell back");
    }

    /**
     * Every GET of a read model's resource ({@link ConsistentReads}, found in CDI), called with its OpenAPI examples,
     * queries the replica and not the primary: a new read model's endpoint is covered without editing this test.
     */
    @Test
    @Order(2)
    void everyReadModelQueryRunsOnTheReplica() {
        awaitInRotation(true);
        Map<String, String> calls = readModelQueries();
        assertTrue(calls.size() >= 8, "the read models' GETs, found: " + calls.keySet());
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, String> call : calls.entrySet()) {
            double replica = reads("replica");
            double primary = reads("primary");
            int status = given().get(call.getValue()).statusCode();
            if (status != 200 && status != 404) {
                wrong.add(call.getKey() + " (" + call.getValue() + "): " + status);
            } else if (reads("replica") <= replica || reads("primary") != primary) {
                wrong.add(call.getKey() + " (" + call.getValue() + "): replica reads " + replica + " -> "
                        + reads("replica") + ", primary reads " + primary + " -> " + reads("primary"));
            }
        }
        assertTrue(wrong.isEmpty(), "GETs that did not read from the replica:\n" + String.join("\n", wrong));
    }

    @Test
    @Order(3)
    void aTokenReadWaitsForAPausedReplicaThenAnswersFromThePrimaryNeverStale() throws Exception {
        awaitInRotation(true);
        ReadReplicas bean = ClientProxy.unwrap(replicas);
        Duration bound = bean.maxLag;
        bean.maxLag = Duration.ofHours(1); // the replica stays in the rotation however long it is paused
        double fellBack = reads("primary", QueryPool.Why.REPLICA_NOT_CAUGHT_UP);
        StreamingReplicaResource.onReplica("SELECT pg_wal_replay_pause()");
        ExecutorService client = Executors.newSingleThreadExecutor();
        try {
            Response placed = place(810_003);
            String orderId = placed.jsonPath().getString("order_id");
            String onReplica = "SELECT order_id FROM orders WHERE order_id = '" + orderId + "'";
            Future<Response> read = client.submit(() -> given()
                    .header(ConsistencyToken.HEADER, placed.header(ConsistencyToken.HEADER)).get("/orders/" + orderId));
            // it waits: the primary has applied the order (the gate let it through), the paused replica has not
            await().atMost(GENEROUS).until(() -> gate.waitsInProgress() == 1 && !read.isDone());
            assertNull(StreamingReplicaResource.onReplica(onReplica), "the replica lacks the write: an answer from "
                    + "it would be stale");
            Response answer = read.get(GENEROUS.toSeconds(), TimeUnit.SECONDS);
            assertEquals(200, answer.statusCode(), answer.asString());
            assertEquals(orderId, answer.jsonPath().getString("order_id"), "the primary's answer, with the write");
            assertEquals(fellBack + 1, reads("primary", QueryPool.Why.REPLICA_NOT_CAUGHT_UP));
            assertNull(StreamingReplicaResource.onReplica(onReplica), "still paused: the answer was the primary's");
        } finally {
            StreamingReplicaResource.onReplica("SELECT pg_wal_replay_resume()");
            bean.maxLag = bound;
            client.shutdownNow();
        }
    }

    @Test
    @Order(4)
    void aReplicaLaggingPastTheBoundLeavesTheRotationAndComesBack() {
        awaitInRotation(true);
        StreamingReplicaResource.onReplica("SELECT pg_wal_replay_pause()");
        try {
            place(810_004); // WAL the paused replica does not replay
            awaitInRotation(false);
            assertTrue(replicas.all().get(0).outOfRotation().startsWith("lagging"),
                    replicas.all().get(0).outOfRotation());
            Management.given().get("/q/health/well").then().statusCode(503);
            assertTrue(Management.given().get("/status").asString().contains("out: lagging"), "on the status page");
            double onPrimary = reads("primary", QueryPool.Why.NO_REPLICA_IN_ROTATION);
            // without a token, read from the primary: the new order is there
            await().atMost(GENEROUS).until(() -> given().queryParam("userId", 810_004).get("/orders").jsonPath()
                    .getList("orders").size() == 1);
            assertTrue(reads("primary", QueryPool.Why.NO_REPLICA_IN_ROTATION) > onPrimary);
        } finally {
            StreamingReplicaResource.onReplica("SELECT pg_wal_replay_resume()");
        }
        awaitInRotation(true);
        double onReplica = reads("replica");
        given().queryParam("userId", 810_004).get("/orders").then().statusCode(200).body("orders.size()", equalTo(1));
        assertEquals(onReplica + 1, reads("replica"));
    }

    @Test
    @Order(5)
    void aReplicaKilledMidLoadFailsNoRead() throws Exception {
        awaitInRotation(true);
        String orderId = place(810_005).jsonPath().getString("order_id");
        await().atMost(GENEROUS).until(() -> StreamingReplicaResource.onReplica(
                "SELECT order_id FROM orders WHERE order_id = '" + orderId + "'") != null);
        List<String> failed;
        double fellBack;
        ReadLoad load = ReadLoad.start(4, "/orders/" + orderId);
        try {
            await().atMost(GENEROUS).until(() -> load.answered() >= 100);
            StreamingReplicaResource.killReplica();
            int atKill = load.answered();
            awaitInRotation(false);
            await().atMost(GENEROUS).until(() -> load.answered() >= atKill + 200);
        } finally {
            load.close();
            failed = load.failed();
            fellBack = reads("primary", QueryPool.Why.REPLICA_FAILED)
                    + reads("primary", QueryPool.Why.NO_REPLICA_IN_ROTATION);
            StreamingReplicaResource.startReplica();
        }
        assertTrue(failed.isEmpty(), failed.size() + " reads failed, e.g. " + failed.stream().findFirst().orElse(""));
        assertTrue(fellBack > 0, "the primary answered while the replica was gone");
        awaitInRotation(true); // restarted, it recovers and streams on
        assertFalse(Double.isNaN(replicas.all().get(0).lagSeconds()));
    }

    private void awaitInRotation(boolean in) {
        try {
            await("replica in the rotation: " + in).atMost(GENEROUS)
                    .until(() -> replicas.all().get(0).inRotation() == in);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("out of the rotation: " + replicas.all().get(0).outOfRotation(), e);
        }
        assertEquals(in ? 1.0 : 0.0, registry.get("readside.query.replica.in.rotation")
                .tag("replica", StreamingReplicaResource.replicaName()).gauge().value());
    }

    private double reads(String source) {
        return registry.find("readside.query.reads").tag("source", source).counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    private double reads(String source, QueryPool.Why why) {
        return registry.find("readside.query.reads").tag("source", source).tag("detail", why.tag()).counters()
                .stream().mapToDouble(Counter::count).sum();
    }

    private static Response place(long userId) {
        Response accepted = given().contentType(ContentType.JSON)
                .body("{\"user_id\":" + userId + ",\"category\":\"books\",\"total\":\"2.00\"}").post("/orders");
        accepted.then().statusCode(202);
        return accepted;
    }

    /** "GET /path" -> a URL with the OpenAPI examples, for every GET of a {@link ConsistentReads} resource. */
    private static Map<String, String> readModelQueries() {
        List<String> templates = new ArrayList<>();
        for (Bean<?> bean : Arc.container().beanManager().getBeans(Object.class, Any.Literal.INSTANCE)) {
            Class<?> type = bean.getBeanClass();
            if (!type.isAnnotationPresent(ConsistentReads.class)) {
                continue;
            }
            String base = type.getAnnotation(Path.class).value();
            for (Method method : type.getDeclaredMethods()) {
                if (method.isAnnotationPresent(GET.class)) {
                    Path path = method.getAnnotation(Path.class);
                    templates.add(path == null ? base
                            : base + (path.value().startsWith("/") ? "" : "/") + path.value());
                }
            }
        }
        Map<String, Map<String, Object>> paths = given().get("/q/openapi?format=json").then().statusCode(200)
                .extract().jsonPath().getMap("paths");
        Map<String, String> calls = new TreeMap<>();
        for (String template : templates) {
            @SuppressWarnings("unchecked")
            Map<String, Object> get = (Map<String, Object>) paths.get(template).get("get");
            String url = template;
            List<String> query = new ArrayList<>();
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> parameters = (List<Map<String, Object>>) get.getOrDefault("parameters",
                    List.of());
            for (Map<String, Object> parameter : parameters) {
                Object example = parameter.containsKey("example") ? parameter.get("example")
                        : parameter.get("schema") instanceof Map<?, ?> schema ? schema.get("example") : null;
                if (!parameter.containsKey("name") || example == null) {
                    continue;
                }
                if ("path".equals(parameter.get("in"))) {
                    url = url.replace("{" + parameter.get("name") + "}", example.toString());
                } else {
                    query.add(parameter.get("name") + "=" + example);
                }
            }
            calls.put("GET " + template, query.isEmpty() ? url : url + "?" + String.join("&", query));
        }
        return calls;
    }
}
