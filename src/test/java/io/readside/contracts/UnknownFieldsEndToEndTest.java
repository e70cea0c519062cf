package io.readside.contracts;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.anyOf;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.DeadLetters;
import io.readside.testing.CommandsInfrastructure;
import io.readside.testing.Contracts;
import io.readside.testing.SignsItsOwnTokens;
import io.readside.testing.TestProducer;
import io.readside.testing.Tokens;
import io.readside.testing.TopicReader;
import io.restassured.specification.RequestSpecification;

/**
 * The contract on a real broker and PostgreSQL: a record with members no reader knows is applied exactly as the
 * same record without them (docs/events-and-contracts.md, Integrating: versioning); what Readside itself
 * publishes is valid against its topics' schemas, with the headers the document lists; and the document is served
 * to anyone.
 */
@QuarkusTest
@TestProfile(CommandsInfrastructure.class)
@SignsItsOwnTokens
class UnknownFieldsEndToEndTest {

    private static final Duration APPLIED = Duration.ofSeconds(60);
    /** The commands' profile places its orders now: an order of a past day would be late there (no revenue). */
    private static final long NOW = Instant.now().getEpochSecond();

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void recordsWithUnknownMembersAreAppliedAsTheSameRecordsWithout() {
        String plainOrder = """
                {"order_id":"uf-plain","user_id":5101,"category":"books","total":"12.50","timestamp":%1$d.5,\
                "items":[{"sku":"b-1","qty":2,"price":"6.25"}]}"""
                .formatted(NOW, NOW + 2);
        String extendedOrder = """
                {"order_id":"uf-extended","schema_version":2,"user_id":5102,"category":"books","total":"12.50",\
                "currency":"EUR","timestamp":%1$d.5,"items":[{"sku":"b-1","qty":2,"price":"6.25",\
                "colour":"red"}],"shipping":{"method":"express","address":{"lines":["1 Main St"]}},"tags":[1,null]}"""
                .formatted(NOW, NOW + 2);
        String plainSignup = """
                {"type":"user.signup","user_id":5101,"email":"plain@example.com","timestamp":%1$d}"""
                .formatted(NOW, NOW + 2);
        String extendedSignup = """
                {"type":"user.signup","user_id":5102,"email":"extended@example.com","timestamp":%1$d,\
                "referrer":{"campaign":"autumn"},"locale":"de-CH"}"""
                .formatted(NOW, NOW + 2);
        String plainPayment = """
                {"order_id":"uf-plain","type":"payment.completed","timestamp":%2$d}"""
                .formatted(NOW, NOW + 2);
        String extendedPayment = """
                {"order_id":"uf-extended","type":"payment.completed","timestamp":%2$d,"psp":{"charge":"ch_1"}}"""
                .formatted(NOW, NOW + 2);
        try (TestProducer producer = new TestProducer(bootstrapServers)) { // validated: unknown members are valid
            producer.send("user-events", "5101", plainSignup);
            producer.send("user-events", "5102", extendedSignup);
            producer.send("orders", "uf-plain", plainOrder);
            producer.send("orders", "uf-extended", extendedOrder);
        }
        Map<String, Object> plain = awaitOrder("uf-plain");
        Map<String, Object> extended = awaitOrder("uf-extended");
        for (String field : List.of("category", "total", "item_count", "created_at", "status")) {
            assertEquals(plain.get(field), extended.get(field), field);
        }
        assertEquals(2, extended.get("item_count"));
        await().atMost(APPLIED).untilAsserted(() -> asOperator().get("/users/5102").then().statusCode(200)
                .body("email", equalTo("extended@example.com")).body("order_count", equalTo(1))
                .body("total_spent", equalTo(12.5f)));

        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("payments", "uf-plain", plainPayment);
            producer.send("payments", "uf-extended", extendedPayment);
        }
        for (String order : List.of("uf-plain", "uf-extended")) { // two keys: no order between them
            await().atMost(APPLIED).untilAsserted(() -> asOperator().get("/orders/" + order).then().statusCode(200)
                    .body("status", equalTo("PAID")));
        }

        // processed-orders keeps the unknown members, byte for byte, and is valid against its own schema
        ConsumerRecord<String, byte[]> processed = await().atMost(APPLIED).until(
                () -> TopicReader.readAllBytes(bootstrapServers, "processed-orders").stream()
                        .filter(r -> "uf-extended".equals(r.key())).findFirst().orElse(null), r -> r != null);
        String published = new String(processed.value(), StandardCharsets.UTF_8);
        assertTrue(published.startsWith(extendedOrder.substring(0, extendedOrder.length() - 1) + ","), published);
        assertEquals(List.of(), Contracts.problems("processed-orders", processed.value()));
    }

    @Test
    void whatReadsidePublishesIsValidAgainstItsTopicsSchemas() {
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("orders", "uf-published", """
                    {"order_id":"uf-published","user_id":5103,"category":"contract","total":7.25,"timestamp":%1$d}"""
                    .formatted(NOW, NOW + 2));
        }
        for (String topic : List.of("processed-orders", "revenue-by-category", "payment-requests")) {
            String key = topic.equals("revenue-by-category") ? "contract" : "uf-published";
            ConsumerRecord<String, byte[]> record = await().atMost(APPLIED).until(
                    () -> TopicReader.readAllBytes(bootstrapServers, topic).stream()
                            .filter(r -> key.equals(r.key())).findFirst().orElse(null), r -> r != null);
            assertEquals(List.of(), Contracts.problems(topic, record.value()), topic + ": "
                    + new String(record.value(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void aDeadLetterCarriesOnlyHeadersTheDocumentLists() throws IOException {
        byte[] value = "{\"order_id\":\"uf-dead\",\"user_id\":1,\"category\":\"c\",\"total\":\"-1\",\"timestamp\":1}"
                .getBytes(StandardCharsets.UTF_8);
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.sendInvalidOnPurpose("orders", "uf-dead", value);
        }
        ConsumerRecord<String, byte[]> letter = await().atMost(APPLIED).until(
                () -> TopicReader.readAllBytes(bootstrapServers, "orders" + DeadLetters.SUFFIX).stream()
                        .filter(r -> "uf-dead".equals(r.key())).findFirst().orElse(null), r -> r != null);
        assertArrayEquals(value, letter.value());
        Set<String> sent = new TreeSet<>();
        for (Header header : letter.headers()) {
            sent.add(header.key());
        }
        Set<String> documented = new TreeSet<>();
        ContractDocumentTest.asyncApi().at("/components/schemas/deadLetterHeaderFields/properties").fieldNames()
                .forEachRemaining(documented::add);
        List<String> required = new ArrayList<>();
        ContractDocumentTest.asyncApi().at("/components/schemas/deadLetterHeaders/required")
                .forEach(name -> required.add(name.asText()));
        assertTrue(documented.containsAll(sent), "undocumented headers: " + sent + " vs " + documented);
        assertTrue(sent.containsAll(required), "documented as always there: " + required + ", sent: " + sent);
        assertEquals("copy", new String(letter.headers().lastHeader(DeadLetters.KIND_HEADER).value(),
                StandardCharsets.UTF_8));
    }

    @Test
    void theContractIsServedWithoutAToken() throws IOException {
        byte[] document = given().get("/asyncapi.yaml").then().statusCode(200).extract().asByteArray();
        assertArrayEquals(Files.readAllBytes(Path.of("src/main/resources/asyncapi.yaml")), document);
        for (String schema : List.of("orders.json", "common.json", "dead-letter-stub.json")) {
            byte[] served = given().get("/schemas/" + schema).then().statusCode(200).extract().asByteArray();
            assertArrayEquals(Files.readAllBytes(Path.of("src/main/resources/schemas", schema)), served, schema);
        }
        given().get("/schemas/application.properties").then().statusCode(404)
                .contentType("application/problem+json");
        given().get("/schemas/..%2Fapplication.properties").then().statusCode(anyOf(equalTo(400), equalTo(404)));
    }

    private Map<String, Object> awaitOrder(String orderId) {
        return await().atMost(APPLIED).until(() -> {
            var response = asOperator().get("/orders/" + orderId);
            return response.statusCode() == 200 ? response.jsonPath().<String, Object>getMap("") : null;
        }, order -> order != null);
    }

    private static RequestSpecification asOperator() {
        return given().header("Authorization", Tokens.bearer(Tokens.operator()));
    }
}
