package io.readside.security;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.inject.Inject;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.CommandsInfrastructure;
import io.readside.testing.GuideEvents;
import io.readside.testing.HeldRelay;
import io.readside.testing.SignsItsOwnTokens;
import io.readside.testing.TestProducer;
import io.readside.testing.Tokens;
import io.readside.web.Problem;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

/**
 * Every endpoint against every kind of caller, on the running application with real tokens: the table in
 * docs/http-and-security.md, "Security". Refused tokens (none, expired, signed by a stranger, for another
 * audience) carry every role, so that it is the token and not the role that is refused.
 */
@QuarkusTest
@TestProfile(CommandsInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@SignsItsOwnTokens
class WhoMayDoWhatTest {

    private static final long OWNER_ID = 7101;
    private static final long OTHER_ID = 7102;
    private static final String[] ALL_ROLES = {Roles.READER, Roles.ORDERS_WRITER, Roles.ADMIN};
    private static final String WINDOW = "from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z";

    enum Caller {
        NONE, EXPIRED, WRONG_SIGNATURE, WRONG_AUDIENCE, OTHER_USER, OWNER, READER, WRITER, ADMIN;

        String token(PrivateKey stranger) {
            return switch (this) {
                case NONE -> null;
                case EXPIRED -> Tokens.expired(OWNER_ID, ALL_ROLES);
                case WRONG_SIGNATURE -> Tokens.signedBy(stranger, OWNER_ID, ALL_ROLES);
                case WRONG_AUDIENCE -> Tokens.forAudience("billing", OWNER_ID, ALL_ROLES);
                case OTHER_USER -> Tokens.user(OTHER_ID);
                case OWNER -> Tokens.user(OWNER_ID);
                case READER -> Tokens.service("reporting", Roles.READER);
                case WRITER -> Tokens.service("checkout", Roles.ORDERS_WRITER);
                case ADMIN -> Tokens.service("operations", Roles.ADMIN);
            };
        }
    }

    /** One endpoint: how to call it as a caller, and what each caller with a valid token gets. */
    private record Row(String operation, String name, Function<Caller, Response> call, int otherUser, int owner,
            int reader, int writer, int admin) {

        int expected(Caller caller) {
            return switch (caller) {
                case NONE, EXPIRED, WRONG_SIGNATURE, WRONG_AUDIENCE -> 401;
                case OTHER_USER -> otherUser;
                case OWNER -> owner;
                case READER -> reader;
                case WRITER -> writer;
                case ADMIN -> admin;
            };
        }
    }

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    private final Map<Caller, String> tokens = new EnumMap<>(Caller.class);

    private boolean seeded;

    /** Once per class; in {@code @BeforeEach} because the test port is known to RestAssured from there on. */
    @BeforeEach
    void ownerWithOrders() throws NoSuchAlgorithmException {
        if (seeded) {
            return;
        }
        seeded = true;
        PrivateKey stranger = KeyPairGenerator.getInstance("RSA").generateKeyPair().getPrivate();
        for (Caller caller : Caller.values()) {
            tokens.put(caller, caller.token(stranger));
        }
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("user-events", Long.toString(OWNER_ID),
                    GuideEvents.signup(71, OWNER_ID, "owner@example.com", "1764229000"));
            long now = Instant.now().getEpochSecond(); // this profile's orders are placed now
            for (String id : orderIds()) {
                producer.send("orders", id, "{\"order_id\":\"" + id + "\",\"user_id\":" + OWNER_ID
                        + ",\"category\":\"books\",\"total\":\"12.50\",\"timestamp\":" + now + "}");
            }
        }
        String operator = Tokens.bearer(Tokens.operator());
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            given().header("Authorization", operator).get("/users/" + OWNER_ID).then().statusCode(200);
            for (String id : orderIds()) {
                given().header("Authorization", operator).get("/orders/" + id).then().statusCode(200);
            }
        });
    }

    private static List<String> orderIds() {
        List<String> ids = new ArrayList<>(List.of("acl-read"));
        for (Caller caller : Caller.values()) {
            ids.add(cancelTarget(caller));
        }
        return ids;
    }

    /** Each caller cancels an order of its own, so that one caller's cancel does not change what the next gets. */
    private static String cancelTarget(Caller caller) {
        return "acl-cancel-" + caller.name().toLowerCase();
    }

    private RequestSpecification as(Caller caller) {
        RequestSpecification request = given();
        String token = tokens.get(caller);
        return token == null ? request : request.header("Authorization", Tokens.bearer(token));
    }

    private List<Row> table() {
        String order = "{\"user_id\":" + OWNER_ID + ",\"category\":\"books\",\"total\":\"12.50\"}";
        return List.of(
                new Row("POST /orders", "POST /orders for the owner",
                        c -> as(c).contentType("application/json").body(order)
                        .post("/orders"), 403, 202, 403, 202, 403),
                new Row("POST /orders/{orderId}/cancel", "POST /orders/{id}/cancel",
                        c -> as(c).post("/orders/" + cancelTarget(c) + "/cancel"),
                        404, 202, 404, 202, 404),
                new Row("GET /orders/{orderId}", "GET /orders/{id}",
                        c -> as(c).get("/orders/acl-read"), 404, 200, 200, 404, 404),
                new Row("GET /users/{userId}", "GET /users/{id}",
                        c -> as(c).get("/users/" + OWNER_ID), 404, 200, 200, 404, 404),
                new Row("GET /orders", "GET /orders?userId=owner", c -> as(c).get("/orders?userId=" + OWNER_ID),
                        403, 200, 200, 403, 403),
                new Row("GET /orders", "GET /orders", c -> as(c).get("/orders"), 403, 403, 200, 403, 403),
                new Row("GET /users", "GET /users", c -> as(c).get("/users"), 403, 403, 200, 403, 403),
                new Row("GET /revenue", "GET /revenue", c -> as(c).get("/revenue?" + WINDOW), 403, 403, 200, 403, 403),
                new Row("GET /revenue/top", "GET /revenue/top",
                        c -> as(c).get("/revenue/top?" + WINDOW), 403, 403, 200, 403, 403),
                // past the role check the admin meets the operation's own answer: no such read model, topic not fenced
                new Row("GET /admin/rebuilds/{readModel}", "GET /admin/rebuilds/{readModel}",
                        c -> as(c).get("/admin/rebuilds/nothing"),
                        403, 403, 403, 403, 404),
                new Row("POST /admin/rebuilds/{readModel}", "POST /admin/rebuilds/{readModel}",
                        c -> as(c).post("/admin/rebuilds/nothing"),
                        403, 403, 403, 403, 404),
                new Row("POST /admin/dead-letters/{topic}/redrive", "POST /admin/dead-letters/{topic}/redrive",
                        c -> as(c).post("/admin/dead-letters/nowhere/redrive?from=0&to=0"), 403, 403, 403, 403, 404),
                new Row("POST /admin/topics/{topic}/accept-new-log", "POST /admin/topics/{topic}/accept-new-log",
                        c -> as(c).post("/admin/topics/orders/accept-new-log"), 403, 403, 403, 403, 409),
                // a topic with nothing parked: the admin sees an empty list, and a resend sends nothing
                new Row("GET /admin/parked-outputs", "GET /admin/parked-outputs",
                        c -> as(c).get("/admin/parked-outputs?topic=acl-nothing-parked"), 403, 403, 403, 403, 200),
                new Row("POST /admin/parked-outputs/resend", "POST /admin/parked-outputs/resend",
                        c -> as(c).post("/admin/parked-outputs/resend?topic=acl-nothing-parked"),
                        403, 403, 403, 403, 200));
    }

    @Inject
    LifetimeFromNow verifier;

    @Test
    void aValidTokenIsVerifiedOnceAndThenKeptWhileARefusedOneIsVerifiedAndRefusedEachTime() {
        String kept = Tokens.bearer(Tokens.service("kept-reader", Roles.READER)); // sent by no other test
        long before = verifier.verifications();
        for (int i = 0; i < 3; i++) {
            given().header("Authorization", kept).get("/orders/acl-read").then().statusCode(200);
        }
        assertEquals(before + 1, verifier.verifications(), "three requests with one valid token: one verification");
        long forged = verifier.verifications();
        for (int i = 0; i < 3; i++) {
            as(Caller.WRONG_SIGNATURE).get("/orders/acl-read").then().statusCode(401);
        }
        assertEquals(forged + 3, verifier.verifications(), "a refused token is never kept");
    }

    @Test
    void everyEndpointAnswersEveryCallerAsTheTableSays() {
        List<String> wrong = new ArrayList<>();
        int requests = 0;
        List<Row> rows = new ArrayList<>(table());
        rows.addAll(readModelQueries(rows.stream().map(Row::operation).collect(Collectors.toSet())));
        for (Row row : rows) {
            for (Caller caller : Caller.values()) {
                Response answer = row.call().apply(caller);
                requests++;
                int expected = row.expected(caller);
                String problem = checkAnswer(answer, expected);
                if (problem != null) {
                    wrong.add(row.name() + " as " + caller + ": " + problem);
                }
            }
        }
        assertEquals(rows.size() * Caller.values().length, requests);
        Set<String> covered = rows.stream().map(Row::operation).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(documentedOperations(), covered, "every operation in the OpenAPI document has its row here (a "
                + "read model's GET outside /admin has one by rule), and every row's operation is documented (a new "
                + "endpoint of another kind: add its row, with what each caller gets)");
        assertTrue(wrong.isEmpty(), wrong.size() + " answers differ from the table:\n" + String.join("\n", wrong));
    }

    /**
     * "METHOD /path" of every operation in the application's OpenAPI document; the dev-only endpoints aside (absent
     * from production builds; devTokenEndpointSignsTokensTheServiceAccepts tests them).
     */
    private static Set<String> documentedOperations() {
        Map<String, Map<String, Object>> paths = given().get("/q/openapi?format=json").then().statusCode(200)
                .extract().jsonPath().getMap("paths");
        Set<String> operations = new TreeSet<>();
        paths.forEach((path, methods) -> methods.keySet().stream()
                .filter(method -> Set.of("get", "put", "post", "delete", "patch").contains(method))
                .filter(method -> !path.startsWith("/dev/"))
                .forEach(method -> operations.add(method.toUpperCase() + " " + path)));
        assertTrue(operations.size() >= 10, "the application's document, not an empty one: " + operations);
        return operations;
    }

    /**
     * A row for each {@code GET} outside {@code /admin} that the table does not list: a read model's query, which is
     * for the reader role only (docs/adding-a-read-model.md). It is called with its parameters' examples from the
     * OpenAPI document (every path parameter needs one, and so does a query parameter the query needs); the reader
     * gets past the role check ({@link #PASSES}), every other caller a 403.
     */
    private List<Row> readModelQueries(Set<String> listed) {
        io.restassured.path.json.JsonPath document = given().get("/q/openapi?format=json").then().statusCode(200)
                .extract().jsonPath();
        Map<String, Map<String, Object>> paths = document.getMap("paths");
        List<Row> rows = new ArrayList<>();
        paths.forEach((path, methods) -> {
            String operation = "GET " + path;
            if (!methods.containsKey("get") || path.startsWith("/admin/") || path.startsWith("/dev/")
                    || listed.contains(operation)) {
                return;
            }
            String url = path;
            List<String> query = new ArrayList<>();
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> parameters = (List<Map<String, Object>>) ((Map<String, Object>) methods
                    .get("get")).getOrDefault("parameters", List.of());
            for (Map<String, Object> parameter : parameters) {
                if (!parameter.containsKey("name")) {
                    continue; // a shared one ($ref): the consistency tokens, optional
                }
                String name = (String) parameter.get("name");
                boolean inPath = "path".equals(parameter.get("in"));
                Object example = parameter.containsKey("example") ? parameter.get("example")
                        : parameter.get("schema") instanceof Map<?, ?> schema ? schema.get("example") : null;
                if (!inPath && example == null) {
                    continue; // optional, or required and refused without it: a 400 the reader row shows
                }
                assertNotNull(example, operation + ": path parameter " + name + " needs an example in the OpenAPI "
                        + "document (@Parameter(example = ...)), the value this test calls it with");
                String value = example.toString(); // RestAssured encodes it
                if (inPath) {
                    url = url.replace("{" + name + "}", value);
                } else {
                    query.add(name + "=" + value);
                }
            }
            String call = query.isEmpty() ? url : url + "?" + String.join("&", query);
            rows.add(new Row(operation, operation + " (a read model's query, by rule)", c -> as(c).get(call),
                    403, 403, PASSES, 403, 403));
        });
        return rows;
    }

    /** Expected of a read model's reader: past the role check, a 200 or the operation's own 404 problem. */
    private static final int PASSES = 0;

    /** Null when the answer has the expected status and, for a refusal, the problem body and challenge it needs. */
    private static String checkAnswer(Response answer, int expected) {
        if (expected == PASSES) {
            return answer.statusCode() == 200 ? null : checkAnswer(answer, 404);
        }
        if (answer.statusCode() != expected) {
            return "expected " + expected + ", got " + answer.statusCode() + " " + answer.body().asString();
        }
        if (expected >= 400 && !answer.contentType().startsWith(Problem.MEDIA_TYPE)) {
            return "a " + expected + " without a problem body: " + answer.contentType();
        }
        if (expected >= 400 && answer.jsonPath().getInt("status") != expected) {
            return "the problem's status is not " + expected;
        }
        String challenge = answer.header("WWW-Authenticate");
        if (expected == 401 && (challenge == null || !challenge.startsWith("Bearer "))) {
            return "a 401 without a Bearer challenge: " + challenge;
        }
        return null;
    }

    @Test
    void anotherUsersOrderAnswersExactlyAsAMissingOne() {
        Response other = as(Caller.OTHER_USER).get("/orders/acl-read");
        Response missing = as(Caller.OTHER_USER).get("/orders/acl-read-nowhere");
        assertEquals(404, other.statusCode());
        assertEquals(missing.jsonPath().getString("detail").replace("acl-read-nowhere", "acl-read"),
                other.jsonPath().getString("detail"));
        assertEquals(as(Caller.OTHER_USER).get("/users/999999").jsonPath().getString("detail")
                .replace("999999", Long.toString(OWNER_ID)),
                as(Caller.OTHER_USER).get("/users/" + OWNER_ID).jsonPath().getString("detail"));
    }

    @Test
    void aRefusedTokenIsRefusedBeforeAConsistencyWait() {
        // a token for a write that never happens would hold the request; without credentials it must not
        as(Caller.EXPIRED).header("X-Consistency-Token", "outbox:999999999").get("/orders/acl-read").then().statusCode(401);
        as(Caller.NONE).queryParam("consistency_token", "outbox:999999999").get("/orders/acl-read").then()
                .statusCode(401);
    }

    @Inject
    Pool pool;

    @Test
    void aCallerWhoMayNotReadIsRefusedBeforeAConsistencyWait() {
        // an issued token that cannot be satisfied while the relay is held: a wait for it lasts max-wait (5 s), then 503
        try (HeldRelay relay = HeldRelay.hold(pool)) {
            String token = as(Caller.OWNER).contentType("application/json")
                    .body("{\"user_id\":" + OWNER_ID + ",\"category\":\"books\",\"total\":\"1.00\"}").post("/orders")
                    .then().statusCode(202).extract().header("X-Consistency-Token");
            // who may not read these must not hold one of the waits, nor learn the refusal only after it
            List<String> wrong = new ArrayList<>();
            expectAtOnce(wrong, "GET /orders as another user", 403,
                    as(Caller.OTHER_USER).header("X-Consistency-Token", token).get("/orders"));
            expectAtOnce(wrong, "GET /orders?userId=owner as another user", 403,
                    as(Caller.OTHER_USER).header("X-Consistency-Token", token).get("/orders?userId=" + OWNER_ID));
            expectAtOnce(wrong, "GET /users/{owner} as another user", 404,
                    as(Caller.OTHER_USER).header("X-Consistency-Token", token).get("/users/" + OWNER_ID));
            expectAtOnce(wrong, "GET /users as the owner", 403,
                    as(Caller.OWNER).header("X-Consistency-Token", token).get("/users"));
            assertTrue(wrong.isEmpty(), String.join("\n", wrong));
        }
    }

    private static void expectAtOnce(List<String> wrong, String name, int expected, Response answer) {
        // a caller who waited would get the wait's 503 (the token cannot be satisfied while the relay is held)
        String problem = checkAnswer(answer, expected);
        if (problem != null) {
            wrong.add(name + ": " + problem);
        }
    }

    @Test
    void aSubjectWithLeadingZerosIsNotThatUser() {
        // "01007" and "1007" are two subjects to the issuer; only the canonical one is user 1007
        String zeros = Tokens.bearer(Tokens.service("0" + OWNER_ID));
        given().header("Authorization", zeros).get("/orders/acl-read").then().statusCode(404);
        given().header("Authorization", zeros).get("/users/" + OWNER_ID).then().statusCode(404);
        given().header("Authorization", zeros).get("/orders?userId=" + OWNER_ID).then().statusCode(403);
    }

    @Test
    void anIdempotencyKeyIsBoundToTheSubjectNotToTheUpn() {
        // two subjects whose tokens share a upn (or a preferred_username): the principal's name, not the caller
        String order = "{\"user_id\":" + OWNER_ID + ",\"category\":\"books\",\"total\":\"2.00\"}";
        String first = given().header("Authorization", Tokens.bearer(Tokens.withUpn(Long.toString(OWNER_ID), "shared")))
                .header("Idempotency-Key", "shared-upn-key").contentType("application/json").body(order)
                .post("/orders").then().statusCode(202).extract().path("order_id");
        Response other = given()
                .header("Authorization", Tokens.bearer(Tokens.withUpn("checkout", "shared", Roles.ORDERS_WRITER)))
                .header("Idempotency-Key", "shared-upn-key").contentType("application/json").body(order)
                .post("/orders");
        assertEquals(422, other.statusCode(), "another subject got the first caller's answer (order " + first + "): "
                + other.body().asString());
    }

    @Test
    void devTokenEndpointSignsTokensTheServiceAccepts() {
        String token = given().get("/dev/token?sub=" + OWNER_ID + "&roles=").then().statusCode(200)
                .contentType("text/plain").extract().asString();
        given().header("Authorization", Tokens.bearer(token)).get("/users/" + OWNER_ID).then().statusCode(200);
        given().header("Authorization", Tokens.bearer(token)).get("/users").then().statusCode(403);
        String reader = given().get("/dev/token?sub=1&roles=" + Roles.READER).then().statusCode(200).extract()
                .asString();
        given().header("Authorization", Tokens.bearer(reader)).get("/users").then().statusCode(200);
        given().get("/dev/token?sub=1&roles=superuser").then().statusCode(400);
    }

    @Test
    void devTokenScriptSignsTokensTheServiceAccepts() throws Exception {
        Process script = new ProcessBuilder("sh", "scripts/dev-token.sh", Long.toString(OWNER_ID)).start();
        String token = new String(script.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertEquals(0, script.waitFor(), new String(script.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        given().header("Authorization", Tokens.bearer(token)).get("/users/" + OWNER_ID).then().statusCode(200);
        given().header("Authorization", Tokens.bearer(token)).get("/users").then().statusCode(403);
    }

    @Test
    void openApiDocumentTellsClientsToSendABearerToken() {
        Response document = given().get("/q/openapi?format=json");
        document.then().statusCode(200);
        Map<String, Map<String, Object>> schemes = document.jsonPath().getMap("components.securitySchemes");
        assertTrue(schemes != null && schemes.values().stream().anyMatch(scheme -> "http".equals(scheme.get("type"))
                && "bearer".equalsIgnoreCase(String.valueOf(scheme.get("scheme")))), "a bearer scheme: " + schemes);
        assertTrue(document.jsonPath().getList("paths.'/orders/{orderId}'.get.security") != null,
                "GET /orders/{orderId} names its security requirement");
    }

    @Test
    void aTokenIssuedInTheFutureIsRefusedHoweverShortItsStatedLifetime() {
        // exp - iat is an hour, but the token is usable from now until two days (or ten years) ahead
        for (Duration ahead : List.of(Duration.ofDays(2), Duration.ofDays(3_650), Duration.ofMinutes(10))) {
            given().header("Authorization", Tokens.bearer(Tokens.issuedAhead(ahead, OWNER_ID)))
                    .get("/users/" + OWNER_ID).then().statusCode(401).contentType(Problem.MEDIA_TYPE);
        }
        // an issuer's clock a little ahead, within the 60 s of clock skew, is not refused
        given().header("Authorization", Tokens.bearer(Tokens.issuedAhead(Duration.ofSeconds(30), OWNER_ID)))
                .get("/users/" + OWNER_ID).then().statusCode(200);
    }

    @Test
    void aTokenWithoutIssuedAtIsRefusedBecauseItsLifetimeCannotBeJudged() {
        given().header("Authorization", Tokens.bearer(Tokens.withoutIssuedAt(OWNER_ID)))
                .get("/users/" + OWNER_ID).then().statusCode(401).contentType(Problem.MEDIA_TYPE);
    }

    @Test
    void aTokenValidForMoreThanADayIsRefused() {
        given().header("Authorization", Tokens.bearer(Tokens.validFor(Duration.ofHours(23), OWNER_ID)))
                .get("/users/" + OWNER_ID).then().statusCode(200);
        given().header("Authorization", Tokens.bearer(Tokens.validFor(Duration.ofDays(30), OWNER_ID)))
                .get("/users/" + OWNER_ID).then().statusCode(401).contentType(Problem.MEDIA_TYPE);
    }
}
