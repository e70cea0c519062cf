package io.readside.projection;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.Search;
import io.readside.testing.RealInfrastructure;
import io.readside.testing.TestProducer;
import io.readside.testing.TopicReader;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * A poll made only of records that cannot be applied, as large as the channel takes (a transaction's records become
 * readable at once, so the idle consumer's next poll holds max.poll.records of them): each is set aside with one dead
 * letter, in the poll's own transaction, and the records after them are applied.
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class FullPollsOfInvalidRecordsEndToEndTest {

    private static final Duration APPLIED = Duration.ofSeconds(120);
    private static final int RECORDS = 3_000;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    MeterRegistry registry;

    @Test
    void thousandsOfUndecodableUserEventsInOnePollAreSetAsideOnceEachWithoutARetry() throws Exception {
        setAsideOnceEach("user-events", "3400", id -> "{\"type\": \"user.signup\", \"user_id\": " + id
                + ", \"email\": \"u@example.com\", \"timestamp\": 1764230000}", List.of("3399", "3401"), "/users/");
    }

    @Test
    void thousandsOfUndecodableOrdersInOnePollAreSetAsideOnceEachWithoutARetry() throws Exception {
        setAsideOnceEach("orders", "fp-1", id -> "{\"order_id\": \"" + id + "\", \"user_id\": 1, "
                + "\"category\": \"c\", \"total\": 1.00, \"timestamp\": 1764230000}", List.of("fp-0", "fp-2"),
                "/orders/");
    }

    /**
     * Once the channel has applied a valid record (marks.get(0)), so that it waits for the next poll: {@link #RECORDS}
     * undecodable records under {@code key} in one transaction, then a valid one (marks.get(1)); read at path + id.
     */
    private void setAsideOnceEach(String topic, String key, Function<String, String> valid, List<String> marks,
            String path) throws Exception {
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send(topic, 0, marks.get(0), valid.apply(marks.get(0)));
        }
        await().atMost(APPLIED).untilAsserted(() -> given().get(path + marks.get(0)).then().statusCode(200));
        double failuresBefore = applyFailures(topic);
        long first;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "full-poll-of-invalid-" + topic),
                new StringSerializer(), new StringSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            first = producer.send(new ProducerRecord<>(topic, 0, key, "{\"type\": 0")).get().offset();
            for (int i = 1; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>(topic, 0, key, "{\"type\": " + i));
            }
            producer.commitTransaction();
        }
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send(topic, 0, marks.get(1), valid.apply(marks.get(1)));
        }
        await().atMost(APPLIED).untilAsserted(() -> given().get(path + marks.get(1)).then().statusCode(200));

        Map<Long, Integer> letters = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> letter : TopicReader.readAllRaw(bootstrapServers, topic + ".dlq")) {
            long offset = Long.parseLong(header(letter, "dead-letter-offset"));
            if ("0".equals(header(letter, "dead-letter-partition")) && offset >= first && offset < first + RECORDS) {
                letters.merge(offset, 1, Integer::sum);
            }
        }
        assertEquals(RECORDS, letters.size(), "every record has its dead letter");
        assertEquals(List.of(1), letters.values().stream().distinct().toList(), "one dead letter each");
        assertEquals(failuresBefore, applyFailures(topic), "no attempt failed and was retried");
    }

    private double applyFailures(String channel) {
        return Search.in(registry).name("readside.apply.failures").tag("channel", channel).counters().stream()
                .mapToDouble(counter -> counter.count()).sum();
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
