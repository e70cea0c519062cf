package io.readside.web;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.consistency.ConsistencyToken;
import io.readside.testing.CommandsInfrastructure;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

/**
 * Every operation of the OpenAPI document, every parameter (path, query, header), each given hostile values with the
 * other parameters valid: the answer is a 2xx or a 4xx problem+json whose {@code status} is the HTTP status, never a
 * 5xx. Commands' profile: a hostile header with a valid body places a real order at the current time.
 */
@QuarkusTest
@TestProfile(CommandsInfrastructure.class)
class HostileHttpInputTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FIVE_THOUSAND = "x".repeat(5000);

    /** Values as they go into a URL: percent-encoded where a raw byte would not be a valid request line. */
    static final List<String> HOSTILE = List.of(
            "%00", "a%00b", "%ED%A0%80", "%5Cud800", "%EF%BF%BF",
            ".", "..", "%2E", "%2e%2E", "..%2F..%2Fstatus",
            FIVE_THOUSAND,
            "1e100000000", "99999999999999999999999", "9223372036854775808", "-9223372036854775809", "-1", "0",
            "%2B1", "1.5", "0x10", "%D9%A3",
            "%2B294276-12-31T00:00:00Z", "-999999999-01-01T00:00:00Z", "%2B10000-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z", "2025-13-45T99:99:99Z",
            "%C0%AF", "%FF", "%C3%28", "%F0%28%8C%BC",
            "", "%20", "%09", "%20%0A%20", "%25", "%27%22%3C%3E%5C");

    /** Tokens on every GET (header and query), beside the corpus: forms that are valid but never issued. */
    static final List<String> HOSTILE_TOKENS = List.of("orders:7:0", "orders:0:999999999999", "orders:2147483648:0",
            "orders:0:9223372036854775807", "orders:-1:0", "nosuchtopic:0:0", "user-events:99:0", "outbox:0",
            "outbox:999999999999", "outbox:9223372036854775807", "outbox:99999999999999999999");

    /** POST bodies: none of them is a valid command. */
    static final List<byte[]> HOSTILE_BODIES = List.of(
            utf8("not json"), utf8(""), utf8("null"), utf8("[1,2]"), utf8("\"text\""),
            utf8("{\"total\":1e400}"),
            utf8("{\"user_id\":1,\"category\":\"books\",\"total\":1e400}"),
            utf8("{\"user_id\":1,\"category\":\"books\",\"total\":1e-400}"),
            utf8("{\"user_id\":1,\"category\":\"books\",\"total\":99999999999999999999999}"),
            utf8("{\"user_id\":1e100000000,\"category\":\"books\",\"total\":1}"),
            utf8("{\"user_id\":99999999999999999999999,\"category\":\"books\",\"total\":1}"),
            utf8("{\"user_id\":1,\"category\":\"a\\u0000b\",\"total\":1}"),
            utf8("{\"user_id\":1,\"category\":\"\\ud800\",\"total\":1}"),
            utf8("{\"user_id\":1,\"category\":\"books\",\"items\":[{\"sku\":\"\\u0000\",\"qty\":1,\"price\":1}]}"),
            utf8("{\"user_id\":1,\"category\":\"books\",\"items\":[{\"sku\":\"s\",\"qty\":1e100000000}]"
                    + ",\"total\":1}"),
            utf8("{\"user_id\":1,\"category\":\"" + "x".repeat(2 * 1024 * 1024) + "\",\"total\":1}"),
            utf8("[".repeat(100_000)),
            bytes(0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D),
            concat(utf8("{\"user_id\":1,\"category\":\""), bytes(0xC0, 0xAF, 0xED, 0xA0, 0x80),
                    utf8("\",\"total\":1}")));

    /** A body each POST with one would accept, for the requests whose hostile value is elsewhere. */
    private static final String VALID_ORDER = "{\"user_id\":720001,\"category\":\"books\",\"total\":\"1.00\"}";

    private final Map<String, Integer> requestsPerParameter = new TreeMap<>();
    private final Set<String> operationsExercised = new TreeSet<>();
    private final Set<String> operationsTakingTokens = new TreeSet<>();
    private final List<String> failures = new ArrayList<>();

    /** {@code example}: the document's example value (null: none), a valid value for a parameter the test does not know. */
    record Parameter(String name, String in, String example) {
    }

    record Operation(String method, String path, List<Parameter> parameters, boolean hasBody) {
        String key() {
            return method.toUpperCase() + " " + path;
        }
    }

    @Test
    void everyParameterOfEveryOperationAnswersHostileValuesWithA2xxOrAProblem() throws Exception {
        List<Operation> operations = operations();
        Set<String> documented = operations.stream().map(Operation::key).collect(Collectors.toCollection(TreeSet::new));
        // the document is the application's, not an empty one: the corpus cannot pass by reaching nothing
        assertTrue(documented.containsAll(Set.of("GET /orders/{orderId}", "GET /orders", "POST /orders",
                "POST /orders/{orderId}/cancel", "GET /users/{userId}", "GET /users", "GET /revenue",
                "GET /revenue/top", "POST /admin/rebuilds/{readModel}", "GET /admin/rebuilds/{readModel}",
                "POST /admin/dead-letters/{topic}/redrive")), documented.toString());
        // the operator pages are on the management port, not in the API's contract
        for (String operatorPage : List.of("GET /", "GET /lag", "GET /status")) {
            assertFalse(documented.contains(operatorPage), operatorPage + " in " + documented);
        }

        for (Operation operation : operations) {
            for (Parameter parameter : operation.parameters()) {
                for (String value : HOSTILE) {
                    if (parameter.in().equals("header") && (value.contains("%0A") || value.contains("%0D"))) {
                        continue; // a line break would end the header, not carry a value
                    }
                    Map<Parameter, String> values = validValues(operation);
                    values.put(parameter, value);
                    int status = send(operation, values, operation.hasBody() ? utf8(VALID_ORDER) : null,
                            operation.key() + " " + parameter.in() + " " + parameter.name() + "=" + shown(value));
                    if (status > 0) {
                        requestsPerParameter.merge(operation.key() + " " + parameter.name(), 1, Integer::sum);
                    }
                }
            }
            if (operation.hasBody()) {
                for (byte[] body : HOSTILE_BODIES) {
                    send(operation, validValues(operation), body,
                            operation.key() + " body " + shown(new String(body, StandardCharsets.ISO_8859_1)));
                }
            }
            if (operation.method().equals("get") && takesConsistencyTokens(operation)) {
                operationsTakingTokens.add(operation.key());
                List<String> tokens = new ArrayList<>(HOSTILE);
                tokens.addAll(HOSTILE_TOKENS);
                for (String token : tokens) {
                    Map<Parameter, String> inQuery = validValues(operation);
                    inQuery.put(new Parameter(ConsistencyToken.QUERY_PARAMETER, "query", null), token);
                    send(operation, inQuery, null, operation.key() + " query consistency_token=" + shown(token));
                    if (!token.contains("%0A")) {
                        Map<Parameter, String> inHeader = validValues(operation);
                        inHeader.put(new Parameter(ConsistencyToken.HEADER, "header", null), token);
                        send(operation, inHeader, null, operation.key() + " header token=" + shown(token));
                    }
                }
            }
        }

        assertEquals(documented, operationsExercised, "every documented operation answered the corpus");
        // every read of a read model takes consistency tokens: each GET outside the operator's and the dev endpoints
        Set<String> reads = operations.stream().filter(operation -> operation.method().equals("get")
                && !operation.path().startsWith("/admin/") && !operation.path().startsWith("/dev/"))
                .map(Operation::key).collect(Collectors.toCollection(TreeSet::new));
        assertTrue(reads.containsAll(Set.of("GET /orders/{orderId}", "GET /users", "GET /revenue/top")), reads.toString());
        assertEquals(reads, operationsTakingTokens, "the reads that take consistency tokens");
        for (Operation operation : operations) {
            for (Parameter parameter : operation.parameters()) {
                assertTrue(requestsPerParameter.getOrDefault(operation.key() + " " + parameter.name(), 0) >= 1,
                        "no hostile value of " + operation.key() + " " + parameter.name() + " was answered");
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " hostile requests were not answered with a 2xx or a 4xx "
                + "problem:\n" + String.join("\n", failures.subList(0, Math.min(60, failures.size()))));
    }

    /**
     * Whether a GET honours consistency tokens (the filter's parameter, not in the document): a token never issued
     * is a 400 there, and ignored elsewhere.
     */
    private boolean takesConsistencyTokens(Operation operation) {
        Map<Parameter, String> values = validValues(operation);
        values.put(new Parameter(ConsistencyToken.HEADER, "header", null), "outbox:999999999999");
        return send(operation, values, null, operation.key() + " header token=outbox:999999999999") == 400;
    }

    @Test
    void nulInOrderIdIsABadRequestNotAServerError() {
        raw().get("/orders/a%00b").then().statusCode(400).contentType(Problem.MEDIA_TYPE)
                .body("status", equalTo(400)).body("detail", allOf(containsString("'orderId'"), containsString("NUL")));
    }

    @Test
    void nulInTheCursorOrTheCategoryIsABadRequestNotAServerError() {
        raw().get("/orders?after=%00").then().statusCode(400).body("detail", containsString("'after'"));
        raw().get("/revenue?category=%00&from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z").then().statusCode(400)
                .body("detail", containsString("'category'"));
    }

    @Test
    void nulInTheIdOfAnOrderToCancelIsABadRequestNotAServerError() {
        raw().post("/orders/a%00b/cancel").then().statusCode(400).contentType(Problem.MEDIA_TYPE)
                .body("detail", containsString("'orderId'"));
    }

    @Test
    void timesBeyondFourDigitYearsAreBadRequestsNamingTheParameter() {
        raw().get("/revenue?from=%2B294276-12-31T00:00:00Z&to=%2B294277-01-01T00:00:00Z").then().statusCode(400)
                .body("detail", containsString("'from' must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z"));
        raw().get("/revenue/top?from=2025-01-01T00:00:00Z&to=-999999999-01-01T00:00:00Z").then().statusCode(400)
                .body("detail", containsString("'to'"));
    }

    @Test
    void dotSegmentsAreProblemsNotARedirectOrTheList() {
        for (String path : List.of("/orders/%2E%2E", "/orders/..", "/orders/.", "/orders/%2e", "/orders/%2E%2E/cancel",
                "/users/%2E%2E", "/admin/rebuilds/%2E%2E")) {
            Response answer = raw().get(path);
            answer.then().statusCode(400).contentType(Problem.MEDIA_TYPE).body("status", equalTo(400));
        }
        raw().post("/orders/%2E%2E/cancel").then().statusCode(400).contentType(Problem.MEDIA_TYPE);
        // an id that only contains dots is an id like any other
        raw().get("/orders/...").then().statusCode(404).contentType(Problem.MEDIA_TYPE);
    }

    @Test
    void fiveThousandCharacterIdGetsAProblemThatQuotesAtMostFortyOfThem() {
        raw().get("/orders/" + FIVE_THOUSAND).then().statusCode(400).contentType(Problem.MEDIA_TYPE)
                .body("detail", allOf(containsString("'orderId' is 5000 characters long"),
                        not(containsString("x".repeat(41)))));
        raw().get("/users/" + "9".repeat(5000)).then().statusCode(400)
                .body("detail", allOf(containsString("(5000 characters)"), not(containsString("9".repeat(41)))));
        raw().get("/orders?status=" + FIVE_THOUSAND).then().statusCode(400)
                .body("detail", containsString("(5000 characters)"));
    }

    @Test
    void hugeAndMalformedNumbersAreBadRequests() {
        raw().get("/users?limit=1e100000000").then().statusCode(400).body("detail", containsString("'limit'"));
        raw().get("/users?after=99999999999999999999999").then().statusCode(400)
                .body("detail", containsString("'after' is out of range"));
        raw().get("/users/9223372036854775808").then().statusCode(400).body("detail", containsString("out of range"));
        raw().get("/users/%D9%A3").then().statusCode(400).body("detail", containsString("whole number"));
    }

    /**
     * Over Readside's limit (16384) a 414 problem; beyond Vert.x's own, higher limit (65536) Vert.x answers before
     * any route: 414, no body (Quarkus offers no hook to add one).
     */
    @Test
    void requestLineOverTheLimitIsA414ProblemAndBeyondVertxsOwnAnEmpty414() {
        raw().get("/orders/" + "x".repeat(20_000)).then().statusCode(414).contentType(Problem.MEDIA_TYPE)
                .body("status", equalTo(414));
        raw().get("/orders/" + "x".repeat(70_000)).then().statusCode(414);
    }

    private List<Operation> operations() throws Exception {
        JsonNode document = JSON.readTree(given().get("/q/openapi?format=json").then().statusCode(200).extract()
                .asByteArray());
        List<Operation> operations = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = document.path("paths").fields(); paths.hasNext();) {
            Map.Entry<String, JsonNode> path = paths.next();
            for (Iterator<Map.Entry<String, JsonNode>> methods = path.getValue().fields(); methods.hasNext();) {
                Map.Entry<String, JsonNode> method = methods.next();
                if (!Set.of("get", "put", "post", "delete", "patch").contains(method.getKey())) {
                    continue;
                }
                List<Parameter> parameters = new ArrayList<>();
                for (JsonNode parameter : path.getValue().path("parameters")) {
                    parameters.add(parameter(document, parameter));
                }
                for (JsonNode parameter : method.getValue().path("parameters")) {
                    parameters.add(parameter(document, parameter));
                }
                operations.add(new Operation(method.getKey(), path.getKey(), parameters,
                        method.getValue().has("requestBody")));
            }
        }
        return operations;
    }

    private static Parameter parameter(JsonNode document, JsonNode parameter) {
        JsonNode resolved = parameter;
        if (parameter.has("$ref")) { // #/components/parameters/<name>
            String[] ref = parameter.get("$ref").asText().split("/");
            resolved = document.path("components").path("parameters").path(ref[ref.length - 1]);
        }
        JsonNode example = resolved.has("example") ? resolved.get("example") : resolved.path("schema").get("example");
        return new Parameter(resolved.get("name").asText(), resolved.get("in").asText(),
                example == null || example.isNull() ? null : example.asText());
    }

    /** A valid value for every parameter of the operation; a parameter without one fails the test until it has. */
    private static Map<Parameter, String> validValues(Operation operation) {
        Map<Parameter, String> values = new LinkedHashMap<>();
        boolean admin = operation.path().startsWith("/admin/");
        for (Parameter parameter : operation.parameters()) {
            String value = switch (parameter.name()) {
                case "orderId" -> "hostile-input-no-such-order";
                case "userId" -> "1007";
                case "status" -> "PENDING";
                case "limit" -> "10";
                case "after" -> operation.path().startsWith("/users") ? "0"
                        : operation.path().startsWith("/revenue") ? "2025-01-01T00:00:00Z/books" : "o-0";
                case "category" -> "books";
                // far beyond any dead letter: a valid redrive that sends nothing back
                case "from", "to" -> admin ? "1000000000" : parameter.name().equals("from") ? "2025-01-01T00:00:00Z"
                        : "2025-01-02T00:00:00Z";
                case "readModel", "topic" -> "orders";
                case "partition" -> "0";
                case "Idempotency-Key" -> "hostile-input-key";
                // false: a rebuild that would lose history is refused, one that would not runs as without it
                case "accept-history-loss" -> "false";
                // false: an older version than the applied one is refused (409), the others are redriven
                case "allow-older-versions" -> "false";
                case "sub" -> "1007";
                case "roles" -> "readside-reader";
                default -> {
                    if (parameter.example() == null) { // a read model's own parameters carry their example
                        throw new AssertionError("no valid value for parameter " + parameter + " of "
                                + operation.key() + ": give it an example (@Parameter(example = ...))");
                    }
                    yield parameter.example();
                }
            };
            values.put(parameter, value);
        }
        return values;
    }

    /** Sends the request, records a failure if the answer is not a 2xx or a 4xx problem; the status, -1 if none. */
    private int send(Operation operation, Map<Parameter, String> values, byte[] body, String what) {
        RequestSpecification request = raw();
        String path = operation.path();
        StringBuilder query = new StringBuilder();
        for (Map.Entry<Parameter, String> value : values.entrySet()) {
            switch (value.getKey().in()) {
                case "path" -> path = path.replace("{" + value.getKey().name() + "}", value.getValue());
                case "query" -> query.append(query.length() == 0 ? "?" : "&").append(value.getKey().name())
                        .append('=').append(value.getValue());
                case "header" -> request.header(value.getKey().name(), headerValue(value.getValue()));
                default -> throw new AssertionError("parameter in " + value.getKey().in() + ": " + what);
            }
        }
        if (body != null) {
            request.contentType("application/json").body(body);
        }
        Response answer;
        try {
            answer = request.request(operation.method(), path + query);
        } catch (RuntimeException e) {
            failures.add(what + " -> no answer: " + e);
            return -1;
        }
        operationsExercised.add(operation.key());
        check(operation, answer, what);
        return answer.statusCode();
    }

    private void check(Operation operation, Response answer, String what) {
        int status = answer.statusCode();
        if (status >= 500 || (status >= 300 && status < 400) || status < 200) {
            failures.add(what + " -> " + status + " " + shown(answer.asString()));
            return;
        }
        if (status >= 400) {
            String type = answer.contentType();
            if (type == null || !type.startsWith(Problem.MEDIA_TYPE)) {
                failures.add(what + " -> " + status + " with content type " + type + ": " + shown(answer.asString()));
                return;
            }
            try {
                JsonNode problem = JSON.readTree(answer.asByteArray());
                if (problem.path("status").asInt() != status) {
                    failures.add(what + " -> " + status + " with a problem saying " + problem.path("status"));
                }
            } catch (Exception e) {
                failures.add(what + " -> " + status + " with a body that is not JSON: " + shown(answer.asString()));
            }
        }
    }

    /** As sent, byte for byte: no encoding by RestAssured, no following redirects. */
    private static RequestSpecification raw() {
        return given().urlEncodingEnabled(false).redirects().follow(false);
    }

    /** A header carries bytes: the percent-decoded value, each byte one ISO-8859-1 character. */
    private static String headerValue(String urlValue) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < urlValue.length(); i++) {
            char c = urlValue.charAt(i);
            if (c == '%' && i + 2 < urlValue.length()) {
                bytes.write(Integer.parseInt(urlValue.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                bytes.write(c);
            }
        }
        return bytes.toString(StandardCharsets.ISO_8859_1);
    }

    private static String shown(String text) {
        return text.length() <= 80 ? text : text.substring(0, 80) + "... (" + text.length() + " characters)";
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(int... values) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) values[i];
        }
        return bytes;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            joined.writeBytes(part);
        }
        return joined.toByteArray();
    }
}
