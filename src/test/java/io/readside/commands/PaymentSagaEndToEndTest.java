package io.readside.commands;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.orders.OrderCancel;
import io.readside.orders.OrderEvent;
import io.readside.orders.RecordedCancels;
import io.readside.projection.consistency.ConsistencyToken;
import io.readside.testing.CommandsInfrastructure;
import io.readside.testing.TestProducer;
import io.readside.testing.TopicReader;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Every path of the payment saga on a real broker and a real PostgreSQL; the test plays the payment service: it
 * reads payment-requests and refund-requests and answers on payments.
 */
@QuarkusTest
@TestProfile(CommandsInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PaymentSagaEndToEndTest {

    private static final Duration STEP = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;
    @Inject
    MeterRegistry registry;
    @Inject
    RecordedCancels cancels;

    private TestProducer producer;

    @BeforeAll
    void producer() {
        producer = new TestProducer(bootstrapServers);
    }

    @AfterAll
    void close() {
        producer.close();
    }

    @Test
    void completedPaymentMakesTheOrderPaid() {
        String order = placeAndRead(720_001, "20.00");
        JsonNode request = await("payment requested").atMost(STEP)
                .until(() -> commands("payment-requests", order, "payment.requested"), list -> list.size() == 1).get(0);
        assertEquals(720_001, request.get("user_id").asLong());
        assertEquals(0, new BigDecimal("20.00").compareTo(request.get("amount").decimalValue()), request.toString());
        assertTrue(Instant.parse(request.get("requested_at").asText()).isBefore(Instant.now()));

        pay(order, "payment.completed");
        awaitStatus(order, "PAID");
    }

    @Test
    void failedPaymentMakesItPaymentFailed() {
        String order = placeAndRead(720_002, "5.00");
        pay(order, "payment.failed");
        awaitStatus(order, "PAYMENT_FAILED");
    }

    @Test
    void noResultWithinTheTimeoutMakesItPaymentTimeoutAndCancelsTheRequest() {
        String order = placeAndRead(720_003, "7.00");
        // as if the request had gone out 16 minutes ago (the timeout is 15)
        execute("UPDATE orders SET payment_requested_at = now() - interval '16 minutes' WHERE order_id = $1", order);
        awaitStatus(order, "PAYMENT_TIMEOUT");
        JsonNode cancel = await().atMost(STEP).until(
                () -> commands("payment-requests", order, "payment.cancel_requested"), list -> list.size() == 1).get(0);
        assertEquals("payment_timeout", cancel.get("reason").asText());

        // the payment service took the money after all: a refund, the status stays
        double anomalies = anomalies();
        pay(order, "payment.completed");
        await().atMost(STEP).until(() -> commands("refund-requests", order, "refund.requested").size() == 1);
        assertEquals("PAYMENT_TIMEOUT", status(order));
        assertEquals(List.of("payment.completed|PAYMENT_TIMEOUT|refund_requested"), recordedAnomalies(order));
        assertEquals(anomalies + 1, anomalies());
    }

    @Test
    void cancelOfAPendingOrderCancelsItAndItsPaymentRequest() {
        String order = placeAndRead(720_004, "8.00");
        Response cancel = given().post("/orders/" + order + "/cancel");
        cancel.then().statusCode(202).body("order_id", equalTo(order));
        given().header(ConsistencyToken.HEADER, cancel.header(ConsistencyToken.HEADER)).get("/orders/" + order)
                .then().statusCode(200).body("status", equalTo("CANCELLED"));
        JsonNode request = await().atMost(STEP).until(
                () -> commands("payment-requests", order, "payment.cancel_requested"), list -> list.size() == 1).get(0);
        assertEquals("order_cancelled", request.get("reason").asText());

        given().post("/orders/" + order + "/cancel").then().statusCode(409).body("detail", containsString("CANCELLED"));

        // a late payment for the cancelled order is refunded; the order stays cancelled
        pay(order, "payment.completed");
        await().atMost(STEP).until(() -> commands("refund-requests", order, "refund.requested").size() == 1);
        assertEquals("CANCELLED", status(order));
        assertEquals(List.of("payment.completed|CANCELLED|refund_requested"), recordedAnomalies(order));
    }

    @Test
    void cancelAfterPaymentRequestsARefundAndEndsRefunded() {
        String order = placeAndRead(720_005, "9.00");
        pay(order, "payment.completed");
        awaitStatus(order, "PAID");
        Response cancel = given().post("/orders/" + order + "/cancel");
        cancel.then().statusCode(202);
        given().header(ConsistencyToken.HEADER, cancel.header(ConsistencyToken.HEADER)).get("/orders/" + order)
                .then().statusCode(200).body("status", equalTo("REFUND_REQUESTED"));
        JsonNode refund = await().atMost(STEP).until(
                () -> commands("refund-requests", order, "refund.requested"), list -> list.size() == 1).get(0);
        assertEquals(0, new BigDecimal("9.00").compareTo(refund.get("amount").decimalValue()), refund.toString());
        assertEquals("order_cancelled", refund.get("reason").asText());

        pay(order, "payment.refunded");
        awaitStatus(order, "REFUNDED");
        assertEquals(List.of(), recordedAnomalies(order));
    }

    @Test
    void duplicateAndContradictoryResultsNeverMoveTheStatusAndAreRecorded() {
        String order = placeAndRead(720_006, "10.00");
        pay(order, "payment.completed");
        awaitStatus(order, "PAID");
        pay(order, "payment.completed");
        pay(order, "payment.failed");
        await().atMost(STEP).until(() -> recordedAnomalies(order).size() == 2);
        assertEquals(List.of("payment.completed|PAID|none", "payment.failed|PAID|none"), recordedAnomalies(order));
        assertEquals("PAID", status(order));
        // committed with the anomalies: the outbox has it even while the topic does not yet
        assertEquals(0, inOutbox("refund-requests", order, "refund.requested"), "a duplicate is not refunded");
    }

    @Test
    void aCancelDeliveredTwiceIsAppliedOnce() throws Exception {
        String order = placeAndRead(720_007, "11.00");
        pay(order, "payment.completed");
        awaitStatus(order, "PAID");
        // the relay may publish an event twice (crash between publish and mark): same event id
        String cancel = JSON.writeValueAsString(JSON.createObjectNode().put("event_id", UUID.randomUUID().toString())
                .put("type", "order.cancel_requested").put("order_id", order).put("timestamp", Instant.now().toString()));
        producer.send("orders", order, cancel);
        RecordMetadata second = producer.send("orders", order, cancel);
        awaitStatus(order, "REFUND_REQUESTED");
        await("the second copy applied").atMost(STEP).until(() -> pool.preparedQuery("""
                SELECT count(*) FROM projection_positions WHERE consumer_group = 'readside' AND topic = 'orders'
                   AND kafka_partition = $1 AND next_offset > $2""")
                .execute(Tuple.of(second.partition(), second.offset())).await().indefinitely().iterator().next().getLong(0) == 1);
        await().atMost(STEP).until(() -> commands("refund-requests", order, "refund.requested").size() == 1);
        // the topic may not have a second request yet: the outbox, committed with both copies, has every one there is
        assertEquals(1, inOutbox("refund-requests", order, "refund.requested"), "one refund request");
        assertEquals(List.of(), recordedAnomalies(order));
    }

    @Test
    void everyReadModelIsToldWhichVersionACancelConcernsAndWhatTheSagaDecided() throws Exception {
        String order = placeAndRead(720_009, "13.00");
        given().post("/orders/" + order + "/cancel").then().statusCode(202);
        producer.send("orders", order, cancelOf(order)); // another cancel of the cancelled order
        // a cancel delivered twice (a copy: the same event id)
        String copied = placeAndRead(720_009, "14.00");
        String cancel = cancelOf(copied);
        producer.send("orders", copied, cancel);
        producer.send("orders", copied, cancel);
        String nowhere = "py-nowhere-" + UUID.randomUUID();
        producer.send("orders", nowhere, cancelOf(nowhere));

        List<RecordedCancels.Told> told = await().atMost(STEP).until(() -> cancels.of(order), t -> t.size() == 2);
        assertEquals(List.of(OrderCancel.Decision.ACCEPTED, OrderCancel.Decision.REFUSED),
                told.stream().map(t -> t.cancel().decision()).toList());
        OrderEvent version = told.get(0).cancel().version();
        assertEquals(720_009, version.userId());
        assertEquals(0, new BigDecimal("13.00").compareTo(version.total()), "the version it cancels, whole");
        assertTrue(told.stream().allMatch(RecordedCancels.Told::live));
        assertEquals(List.of(OrderCancel.Decision.ACCEPTED, OrderCancel.Decision.REPEATED), await().atMost(STEP)
                .until(() -> cancels.of(copied), t -> t.size() == 2).stream().map(t -> t.cancel().decision()).toList());
        RecordedCancels.Told none = await().atMost(STEP).until(() -> cancels.of(nowhere), t -> t.size() == 1).get(0);
        assertEquals(OrderCancel.Decision.REFUSED, none.cancel().decision());
        assertNull(none.cancel().version(), "no such order");
    }

    private static String cancelOf(String orderId) throws Exception {
        return JSON.writeValueAsString(JSON.createObjectNode().put("event_id", UUID.randomUUID().toString())
                .put("type", "order.cancel_requested").put("order_id", orderId)
                .put("timestamp", Instant.now().toString()));
    }

    @Test
    void anOrderFromAnotherProducerIsAskedForPaymentToo() {
        String order = "py-" + UUID.randomUUID();
        producer.send("orders", order, """
                {"order_id":"%s","user_id":720008,"category":"garden","total":42.5,"timestamp":%d}"""
                .formatted(order, Instant.now().getEpochSecond()));
        JsonNode request = await().atMost(STEP).until(
                () -> commands("payment-requests", order, "payment.requested"), list -> list.size() == 1).get(0);
        assertEquals(0, new BigDecimal("42.50").compareTo(request.get("amount").decimalValue()), request.toString());
        pay(order, "payment.completed");
        awaitStatus(order, "PAID");
    }

    // --- helpers ----------------------------------------------------------------------------------------------------

    private String placeAndRead(long userId, String total) {
        Response accepted = given().contentType(ContentType.JSON)
                .body("{\"user_id\":" + userId + ",\"category\":\"books\",\"total\":\"" + total + "\"}").post("/orders");
        accepted.then().statusCode(202);
        String orderId = accepted.jsonPath().getString("order_id");
        given().header(ConsistencyToken.HEADER, accepted.header(ConsistencyToken.HEADER)).get("/orders/" + orderId)
                .then().statusCode(200).body("status", equalTo("PENDING"));
        return orderId;
    }

    private void pay(String orderId, String type) {
        producer.send("payments", orderId, """
                {"order_id":"%s","type":"%s","timestamp":"%s"}""".formatted(orderId, type, Instant.now()));
    }

    private void awaitStatus(String orderId, String status) {
        await(orderId + " " + status).atMost(STEP).pollInterval(Duration.ofMillis(100))
                .until(() -> status.equals(status(orderId)));
    }

    private String status(String orderId) {
        return given().get("/orders/" + orderId).then().statusCode(200).extract().jsonPath().getString("status");
    }

    /** The rows for one order with the given type in the outbox: what is published, and what is still to be. */
    private long inOutbox(String topic, String orderId, String type) {
        return pool.preparedQuery("""
                SELECT count(*) FROM outbox WHERE topic = $1 AND message_key = $2 AND event_type = $3""")
                .execute(Tuple.of(topic, orderId, type)).await().indefinitely().iterator().next().getLong(0);
    }

    /** The values of a topic for one order with the given type. */
    private List<JsonNode> commands(String topic, String orderId, String type) {
        List<JsonNode> found = new ArrayList<>();
        for (ConsumerRecord<String, String> record : TopicReader.readAll(bootstrapServers, topic)) {
            if (orderId.equals(record.key())) {
                JsonNode value = json(record.value());
                assertEquals(orderId, value.get("order_id").asText());
                if (type.equals(value.get("type").asText())) {
                    found.add(value);
                }
            }
        }
        return found;
    }

    private static JsonNode json(String value) {
        try {
            return JSON.readTree(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private List<String> recordedAnomalies(String orderId) {
        List<String> anomalies = new ArrayList<>();
        for (Row row : pool.preparedQuery("""
                SELECT event || '|' || coalesce(order_status, '-') || '|' || action FROM saga_anomalies
                 WHERE order_id = $1 ORDER BY id""").execute(Tuple.of(orderId)).await().indefinitely()) {
            anomalies.add(row.getString(0));
        }
        return anomalies;
    }

    private double anomalies() {
        return registry.find("readside.saga.anomalies").counters().stream().mapToDouble(c -> c.count()).sum();
    }

    private void execute(String sql, String parameter) {
        assertEquals(1, pool.preparedQuery(sql).execute(Tuple.of(parameter)).await().indefinitely().rowCount());
    }
}
