package io.readside.projection;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.Map;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.management.ManagementRoutes;
import io.readside.testing.Contracts;
import io.readside.testing.Management;
import io.readside.testing.RealInfrastructure;

/**
 * Exactly-once producers (Kafka Streams, Flink, Debezium, confluent-kafka with a {@code transactional.id}) on a
 * real broker: only committed records are applied, and a transaction's commit marker is not lag.
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class TransactionalProducersEndToEndTest {

    private static final Duration APPLIED = Duration.ofSeconds(60);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void aCommittedTransactionIsAppliedAndItsMarkerLeavesNoLag() {
        try (KafkaProducer<String, String> producer = transactional("tx-commit")) {
            producer.beginTransaction();
            for (int i = 1; i <= 3; i++) {
                producer.send(new ProducerRecord<>("orders", 0, "tx-c-" + i, order("tx-c-" + i, 4101, "2.00")));
            }
            producer.commitTransaction();
        }

        for (int i = 1; i <= 3; i++) {
            awaitOrder("tx-c-" + i);
        }
        // the marker takes an offset that is never delivered: once measured, the partition is caught up
        await().atMost(APPLIED).untilAsserted(() -> Management.given().get(ManagementRoutes.LAG).then().statusCode(200)
                .body("partitions.find { it.topic == 'orders' && it.partition == 0 }.lag_records", equalTo(0)));
    }

    @Test
    void anAbortedTransactionIsNeverApplied() {
        send("user-events", 1, "4102", signup(4102, "before@example.com"));
        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/4102").then().statusCode(200));
        try (KafkaProducer<String, String> producer = transactional("tx-abort")) {
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("orders", 1, "tx-a-1", order("tx-a-1", 4102, "99.00")));
            producer.send(new ProducerRecord<>("user-events", 1, "4102", emailChanged(4102, "phantom@example.com")));
            producer.flush();
            producer.abortTransaction();
        }
        send("orders", 1, "tx-a-after", order("tx-a-after", 4102, "1.00"));
        send("user-events", 1, "4102", emailChanged(4102, "after@example.com"));

        awaitOrder("tx-a-after");
        await().atMost(APPLIED).untilAsserted(() -> given().get("/users/4102").then()
                .body("email", equalTo("after@example.com")));
        given().get("/orders/tx-a-1").then().statusCode(404);
        given().get("/users/4102").then().body("order_count", equalTo(1)).body("total_spent", equalTo(1.0f));
    }

    @Test
    void anOpenTransactionHoldsBackItsRecordsAndThoseAfterItUntilItCommits() {
        try (KafkaProducer<String, String> producer = transactional("tx-open")) {
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("orders", 2, "tx-o-1", order("tx-o-1", 4103, "3.00")));
            producer.flush();
            send("orders", 2, "tx-o-behind", order("tx-o-behind", 4103, "4.00"));

            // read_committed: nothing at or after the open transaction's first record is delivered, and the lag
            // monitor does not count it as applicable
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                given().get("/orders/tx-o-1").then().statusCode(404);
                given().get("/orders/tx-o-behind").then().statusCode(404);
            });
            await().atMost(APPLIED).untilAsserted(() -> Management.given().get(ManagementRoutes.LAG).then()
                    .body("partitions.find { it.topic == 'orders' && it.partition == 2 }.lag_records", equalTo(0)));

            producer.commitTransaction();
        }
        awaitOrder("tx-o-1");
        awaitOrder("tx-o-behind");
    }

    @Test
    void aProducerThatDiesWithItsTransactionOpenIsFencedAndNothingOfItIsApplied() {
        KafkaProducer<String, String> dying = transactional("tx-dies");
        dying.beginTransaction();
        dying.send(new ProducerRecord<>("orders", 0, "tx-d-1", order("tx-d-1", 4104, "5.00")));
        dying.flush();
        dying.close(Duration.ZERO); // no commit, no abort: as if the process were killed

        // its successor (same transactional.id) fences it, which aborts the open transaction
        try (KafkaProducer<String, String> successor = transactional("tx-dies")) {
            successor.beginTransaction();
            successor.send(new ProducerRecord<>("orders", 0, "tx-d-2", order("tx-d-2", 4104, "6.00")));
            successor.commitTransaction();
        }
        awaitOrder("tx-d-2");
        given().get("/orders/tx-d-1").then().statusCode(404);
    }

    private KafkaProducer<String, String> transactional(String transactionalId) {
        KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId,
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000),
                new StringSerializer(), new StringSerializer());
        producer.initTransactions();
        return producer;
    }

    private void send(String topic, int partition, String key, String value) {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers, ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, partition, key, value)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void awaitOrder(String orderId) {
        await().atMost(APPLIED).untilAsserted(() -> given().get("/orders/" + orderId).then().statusCode(200));
    }

    private static String order(String id, long userId, String total) {
        return Contracts.valid("orders", "{\"order_id\":\"" + id + "\",\"user_id\":" + userId
                + ",\"category\":\"tx\",\"total\":" + total + ",\"timestamp\":1764230000}");
    }

    private static String signup(long userId, String email) {
        return "{\"type\":\"user.signup\",\"user_id\":" + userId + ",\"email\":\"" + email
                + "\",\"timestamp\":1764230000}";
    }

    private static String emailChanged(long userId, String email) {
        return Contracts.valid("user-events", "{\"type\":\"user.email_changed\",\"user_id\":" + userId
                + ",\"email\":\"" + email + "\",\"timestamp\":1764230100}");
    }
}
