package io.readside.users;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.IntStream;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.GuideEvents;
import io.readside.testing.Management;
import io.readside.testing.RealInfrastructure;
import io.readside.testing.TestProducer;
import io.readside.testing.TopicReader;
import io.restassured.path.json.JsonPath;

/**
 * The whole path on a real broker and a real PostgreSQL: records produced to user-events with a plain
 * KafkaProducer, as the guide's producer sends them, are read back over HTTP.
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UsersEndToEndTest {

    private static final String TOPIC = "user-events";
    private static final Duration APPLIED = Duration.ofSeconds(30);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Inject
    UsersProjector projector;

    private TestProducer producer;

    @BeforeAll
    void produceTheGuidesHundredSignups() {
        producer = new TestProducer(bootstrapServers);
        // the guide's producer: for i in range(100): user_id 1000 + i, email user{i}@example.com
        for (int i = 0; i < 100; i++) {
            producer.send(TOPIC, Integer.toString(1000 + i),
                    GuideEvents.signup(i, 1000 + i, "user" + i + "@example.com", "1764230000." + (100 + i)));
        }
    }

    @AfterAll
    void closeProducer() {
        producer.close();
    }

    @Test
    void everyOneOfTheHundredSignupsIsReadable() {
        for (int i = 0; i < 100; i++) {
            int userId = 1000 + i;
            String email = "user" + i + "@example.com";
            String signedUpAt = "2025-11-27T07:53:20." + (100 + i) + "Z";
            await().atMost(APPLIED).untilAsserted(() -> given().get("/users/{id}", userId).then()
                    .statusCode(200)
                    .body("user_id", equalTo(userId))
                    .body("email", equalTo(email))
                    .body("signed_up_at", equalTo(signedUpAt))
                    .body("updated_at", equalTo(signedUpAt)));
        }
    }

    @Test
    void emailChangeUpdatesTheUser() {
        producer.send(TOPIC, "2001", GuideEvents.signup(1, 2001, "before@example.com", "1764230000"));
        producer.send(TOPIC, "2001", GuideEvents.emailChanged(2001, "after@example.com", "1764230500.5"));

        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/2001").then()
                .statusCode(200)
                .body("email", equalTo("after@example.com"))
                .body("signed_up_at", equalTo("2025-11-27T07:53:20Z"))
                .body("updated_at", equalTo("2025-11-27T08:01:40.500Z")));
    }

    @Test
    void tombstoneErasesTheUser() {
        producer.send(TOPIC, "2002", GuideEvents.signup(2, 2002, "gone@example.com", "1764230000"));
        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/2002").then().statusCode(200));

        producer.send(TOPIC, "2002", (byte[]) null);

        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/2002").then()
                .statusCode(404)
                .contentType("application/problem+json")
                .body("status", equalTo(404)));
    }

    @Test
    void sameRecordDeliveredTwiceLeavesTheRowAsItWas() {
        RecordMetadata signup = producer.send(TOPIC, "2003",
                GuideEvents.signup(3, 2003, "old@example.com", "1764230000"));
        producer.send(TOPIC, "2003", GuideEvents.emailChanged(2003, "new@example.com", "1764230100"));
        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/2003").then()
                .body("email", equalTo("new@example.com")));

        // the signup record, read back from the broker, delivered to the projector a second time
        projector.apply(readBack(signup)).await().atMost(APPLIED);

        given().get("/users/2003").then()
                .statusCode(200)
                .body("email", equalTo("new@example.com"))
                .body("updated_at", equalTo("2025-11-27T07:55:00Z"));
    }

    @Test
    void paginationWalksEveryUserExactlyOnceInIdOrder() {
        // the hundred signups lie on three partitions, applied independently: the walk is asked again until every one
        // of them is applied (1000 and 1099 applied say nothing of 1001; continuous testing, which runs this first,
        // found it)
        // (only completeness is waited for: every walk, the early ones too, must give each id once, in order)
        List<List<Integer>> walks = new ArrayList<>();
        await().atMost(APPLIED).until(() -> {
            List<Integer> seen = walkEveryPage();
            walks.add(seen);
            return IntStream.range(1000, 1100).allMatch(seen::contains);
        });
        for (List<Integer> seen : walks) {
            assertEquals(new ArrayList<>(new TreeSet<>(seen)), seen, "each id once, in increasing order");
        }
    }

    private List<Integer> walkEveryPage() {
        List<Integer> seen = new ArrayList<>();
        String after = "0";
        int pages = 0;
        while (after != null) {
            JsonPath page = given().queryParam("limit", 7).queryParam("after", after).get("/users").then()
                    .statusCode(200).extract().jsonPath();
            List<Integer> ids = page.getList("users.user_id", Integer.class);
            assertTrue(ids.size() <= 7);
            seen.addAll(ids);
            Object next = page.get("next_after");
            after = next == null ? null : next.toString();
            pages++;
            assertTrue(pages < 1000, "pagination does not end");
        }
        return seen;
    }

    @Test
    void badIdsAndLimitsGetProblemBodies() {
        given().get("/users/abc").then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("'userId' must be a whole number"));
        given().get("/users/-3").then().statusCode(400).contentType("application/problem+json");
        given().get("/users/987654321").then().statusCode(404).contentType("application/problem+json")
                .body("detail", containsString("987654321"));
        given().queryParam("limit", 0).get("/users").then().statusCode(400)
                .body("detail", containsString("between 1 and 500"));
        given().queryParam("limit", 501).get("/users").then().statusCode(400);
        given().queryParam("limit", "ten").get("/users").then().statusCode(400);
        given().queryParam("after", "x").get("/users").then().statusCode(400)
                .contentType("application/problem+json");
    }

    @Test
    void recordsThatCannotBeUnderstoodGoToTheDeadLetterTopicAndDoNotStopTheChannel() {
        byte[] notUtf8 = { (byte) 0xC3, (byte) 0x28, '{', '}' };
        RecordMetadata notJson = producer.sendInvalidOnPurpose(TOPIC, "2004", "not json at all");
        producer.sendInvalidOnPurpose(TOPIC, "2004", notUtf8);
        producer.sendInvalidOnPurpose(TOPIC, "2004", "{\"type\":\"user.renamed\",\"user_id\":2004}");
        producer.send(TOPIC, "2004", GuideEvents.signup(4, 2004, "survivor@example.com", "1764230000"));

        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/2004").then()
                .statusCode(200).body("email", equalTo("survivor@example.com")));
        String metrics = Management.given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("readside_records_rejected_total{channel=\"user-events\",reason=\"malformed-json\"}"),
                metrics);
        assertTrue(metrics.contains("readside_records_rejected_total{channel=\"user-events\",reason=\"not-utf8\"}"));
        assertTrue(metrics.contains("readside_records_rejected_total{channel=\"user-events\",reason=\"unknown-type\"}"));
        Management.given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        Management.given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        Management.given().get("/q/health/started").then().statusCode(200).body("status", equalTo("UP"));

        List<ConsumerRecord<String, byte[]>> deadLetters = TopicReader.readAllBytes(bootstrapServers,
                TOPIC + ".dlq").stream().filter(r -> "2004".equals(r.key())).toList();
        assertEquals(List.of("malformed-json", "not-utf8", "unknown-type"),
                deadLetters.stream().map(r -> header(r, "dead-letter-reason")).toList());
        assertEquals("not json at all", new String(deadLetters.get(0).value(), StandardCharsets.UTF_8));
        assertArrayEquals(notUtf8, deadLetters.get(1).value(), "the value as received");
        assertEquals(TOPIC, header(deadLetters.get(0), "dead-letter-topic"));
        assertEquals(Integer.toString(notJson.partition()), header(deadLetters.get(0), "dead-letter-partition"));
        assertEquals(Long.toString(notJson.offset()), header(deadLetters.get(0), "dead-letter-offset"));
        assertEquals(Long.toString(notJson.timestamp()), header(deadLetters.get(0), "dead-letter-timestamp"));
        assertTrue(header(deadLetters.get(0), "dead-letter-cause").contains("not valid JSON"));
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    private ConsumerRecord<byte[], byte[]> readBack(RecordMetadata sent) {
        return TopicReader.readRange(bootstrapServers, sent.topic(), sent.partition(), sent.offset(),
                sent.offset() + 1).get(0);
    }
}
