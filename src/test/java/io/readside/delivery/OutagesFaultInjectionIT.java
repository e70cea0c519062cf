package io.readside.delivery;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.readside.projection.management.ManagementRoutes;
import io.readside.testing.ServiceProcess;
import io.readside.testing.TopicReader;

/**
 * Faults injected around the packaged service, on a real broker and a real PostgreSQL: the broker down for 40 s,
 * PostgreSQL down for 30 s, an output topic that refuses every record, the outbox relay halted between publishing
 * and marking. Every scenario ends with: read model == oracle (nothing lost, nothing counted twice) and the service
 * ready. The processes' faults are {@link FaultInjectionIT}, the logs' and the replicas'
 * {@link LogsAndReplicasFaultInjectionIT}; failsafe runs the three side by side.
 */
class OutagesFaultInjectionIT extends FaultInjectionHarness {

    @Test
    @Order(4)
    void brokerDownFor40SecondsKeepsTheQueriesInServiceAndLosesNothing() throws Exception {
        traffic.produce(8_000);
        long before = appliedRecords();
        await().atMost(DRAIN).until(() -> appliedRecords() >= before + 1_000);
        kafka.close();
        try {
            // longer than the lag monitor's staleness bound (3 intervals + 10 s): the queries need only PostgreSQL,
            // so the instance stays ready and answers; the outage is reported instead
            holdsThroughout("alive, ready and answering queries without a broker", Duration.ofSeconds(40),
                    () -> service.alive()
                            && service.managementStatus("/q/health/ready") == 200
                            && service.status("/orders?limit=1") == 200);
            await("the outage is reported").atMost(Duration.ofSeconds(30))
                    .until(() -> service.managementGet("/q/metrics").contains("\nreadside_kafka_reachable 0.0"));
        } finally {
            startBroker(); // whatever happened: the scenarios after this one need a broker
        }
        await("the broker is reachable again").atMost(START)
                .until(() -> service.managementGet("/q/metrics").contains("\nreadside_kafka_reachable 1.0"));
        traffic.produce(4_000);
        awaitEverythingApplied();

        assertReadModelEqualsOracle();
        assertReady(service);
        figures.put("4 broker outage", "40 s; ready and answering queries throughout, readside_kafka_reachable 0 "
                + "during; reconnected without a restart");
    }

    @Test
    @Order(5)
    void postgresqlDownFor30SecondsMeansNotReadyThenCatchesUp() throws Exception {
        traffic.produce(8_000);
        long before = appliedRecords();
        await().atMost(DRAIN).until(() -> appliedRecords() >= before + 1_000);
        postgres.close();
        try {
            await("readiness DOWN").atMost(Duration.ofSeconds(20))
                    .until(() -> service.managementStatus("/q/health/ready") == 503);
            holdsThroughout("not ready and alive throughout the outage", Duration.ofSeconds(30),
                    () -> service.alive() && service.managementStatus("/q/health/ready") == 503
                            && service.managementStatus("/q/health/live") == 200);
        } finally {
            startPostgres(); // whatever happened: the scenarios after this one need the database
        }
        await("readiness UP").atMost(START).until(() -> service.managementStatus("/q/health/ready") == 200);
        awaitEverythingApplied();

        assertReadModelEqualsOracle();
        assertReady(service);
        figures.put("5 postgresql outage", "30 s; readiness 503 during, 200 after, liveness 200 throughout");
    }

    @Test
    @Order(11)
    void processedOrdersRefusingEveryRecordParksThemWhileOrdersFlowAndTheResendDeliversEachOnce() throws Exception {
        awaitOutboxPublished();
        long parkedBefore = Long.parseLong(queryMap("SELECT 'id', coalesce(max(id), 0)::text FROM parked_outputs")
                .get("id"));
        assertEquals("0", queryMap("""
                SELECT 'waiting', count(*)::text FROM parked_outputs WHERE resent_at IS NULL""")
                .get("waiting"), "nothing waits before the scenario");
        double countedBefore = metricSum(service, PARKED, PROCESSED_ORDERS_LABEL);
        recreateTopic("processed-orders", TopicReader.partitions(bootstrap(), "processed-orders"),
                Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "100")); // less than any record batch

        // two rounds: the second comes after the first round's outputs were refused, and is applied all the same
        int changesBefore = traffic.fold.changes;
        List<String> orders = new ArrayList<>(traffic.produce(300));
        awaitEverythingApplied();
        await("the first round's outputs parked").atMost(DRAIN).pollInterval(Duration.ofMillis(500))
                .until(() -> parkedWaiting(parkedBefore) >= orders.size());
        orders.addAll(traffic.produce(300));
        awaitEverythingApplied();
        await("no lag: the input flows while its outputs are refused").atMost(START).until(() -> JSON
                .readTree(service.managementGet(ManagementRoutes.LAG)).at("/totals/lag_records").asLong(-1) == 0);
        assertEquals(traffic.fold.changes - changesBefore, orders.size(), "each order sent is one processed order");

        Map<String, String> expected = new TreeMap<>(); // order id -> how many of its versions were refused
        orders.forEach(id -> expected.merge(id, "1", (a, b) -> String.valueOf(Integer.parseInt(a) + 1)));
        await("every refused record parked").atMost(DRAIN).pollInterval(Duration.ofMillis(500))
                .until(() -> parkedWaiting(parkedBefore) >= orders.size());
        assertEquals(expected, queryMap("""
                SELECT convert_from(message_key, 'UTF8'), count(*)::text FROM parked_outputs
                 WHERE id > %d AND topic = 'processed-orders' AND resent_at IS NULL AND superseded_at IS NULL
                 GROUP BY 1""".formatted(parkedBefore)), "each refused record parked once, and nothing else");
        assertEquals(Map.of("parked", orders.size() + "|" + orders.size()), queryMap("""
                SELECT 'parked', count(*) FILTER (WHERE reason <> '' AND payload IS NOT NULL AND parked_at IS NOT NULL)
                       || '|' || count(*) FROM parked_outputs WHERE id > %d""".formatted(parkedBefore)),
                "each parked with its bytes, its reason and when");
        String reasons = String.join(", ", queryMap("""
                SELECT DISTINCT reason, '' FROM parked_outputs WHERE id > %d""".formatted(parkedBefore)).keySet());
        await("counted: readside_outputs_parked_total and readside_outputs_parked_waiting").atMost(START)
                .untilAsserted(() -> {
                    assertEquals(orders.size(), metricSum(service, PARKED, PROCESSED_ORDERS_LABEL) - countedBefore,
                            PARKED);
                    assertEquals(orders.size(), metricSum(service, PARKED_WAITING), PARKED_WAITING);
                });
        await("readside-outputs DOWN in the wellness group").atMost(START)
                .until(() -> "DOWN".equals(healthCheck(service, "/q/health/well", "readside-outputs")));
        assertEquals(200, service.managementStatus("/q/health/ready"), "still ready: the input flows");
        assertEquals(200, service.managementStatus("/q/health/live"));

        // the topic is fixed; the operator re-sends what waits
        setTopicConfig("processed-orders", TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "1048576");
        HttpResponse<String> resend = service.postAsAdmin("/admin/parked-outputs/resend");
        assertEquals(200, resend.statusCode(), resend.body());
        JsonNode answer = JSON.readTree(resend.body());
        long resent = answer.get("resent").asLong(-1);
        long superseded = answer.get("superseded").asLong(-1);
        // every record of the topic was refused: no order had a later record published since, none is superseded
        assertEquals(orders.size(), resent, resend.body());
        assertEquals(0, superseded, resend.body());
        awaitOutboxPublished();
        await("nothing waits any more").atMost(START).untilAsserted(() -> {
            assertEquals(0, metricSum(service, PARKED_WAITING), PARKED_WAITING);
            assertEquals("UP", healthCheck(service, "/q/health/well", "readside-outputs"));
        });

        Map<String, String> resentPerKey = queryMap("""
                SELECT convert_from(message_key, 'UTF8'), count(*)::text FROM parked_outputs
                 WHERE id > %d AND resent_at IS NOT NULL AND superseded_at IS NULL
                 GROUP BY 1""".formatted(parkedBefore));
        assertEquals(expected, resentPerKey, "every refused record re-sent");
        assertEquals(resent, resentPerKey.values().stream().mapToLong(Long::parseLong).sum(), resend.body());
        assertEquals(String.valueOf(superseded), queryMap("""
                SELECT 'superseded', count(*)::text FROM parked_outputs WHERE id > %d AND superseded_at IS NOT NULL"""
                .formatted(parkedBefore)).get("superseded"), resend.body());
        Map<String, String> onTopic = new TreeMap<>();
        Map<String, JsonNode> last = new HashMap<>();
        for (ConsumerRecord<String, String> record : TopicReader.readAll(bootstrap(), "processed-orders")) {
            onTopic.merge(record.key(), "1", (a, b) -> String.valueOf(Integer.parseInt(a) + 1));
            last.put(record.key(), JSON.readTree(record.value()));
        }
        assertEquals(resentPerKey, onTopic, "each re-sent record on processed-orders exactly once, nothing else");
        for (String id : expected.keySet()) {
            assertIsLatestVersion(id, last.get(id));
        }
        assertReadModelEqualsOracle();
        assertReady(service);
        figures.put("11 refused outputs", "processed-orders refused every record (max.message.bytes 100): "
                + orders.size() + " orders applied in two rounds, lag 0; " + orders.size() + " records parked ("
                + reasons + "), counted, readside-outputs DOWN while ready; after the fix the resend re-sent "
                + resent + " (" + superseded + " superseded), each once on the topic");
    }

    /**
     * Last: the commands it accepts carry the wall clock's event time, so they move their partitions' stream time a
     * year past the traffic's synthetic clock (every later traffic order would be late), and the oracle does not
     * fold them.
     */
    @Test
    @Order(12)
    void relayKilledBetweenPublishAndMarkPublishesEachEventAndTheReadModelCountsEachOrderOnce() throws Exception {
        service.terminate(Duration.ofSeconds(40));
        // commands accepted while no relay runs: the outbox holds them
        ServiceProcess accepting = start("commands-relay-off", 0, Map.of("readside.outbox.enabled", "false"))
                .awaitReady(START);
        long user = 990_001;
        int orders = 200;
        BigDecimal sum = BigDecimal.ZERO;
        Map<String, String> events = new TreeMap<>(); // order id -> event id
        for (int i = 1; i <= orders; i++) {
            BigDecimal total = BigDecimal.valueOf(i, 2).add(BigDecimal.ONE);
            sum = sum.add(total);
            HttpResponse<String> accepted = accepting.post("/orders", """
                    {"user_id":%d,"category":"relay","total":"%s"}""".formatted(user, total.toPlainString()));
            assertEquals(202, accepted.statusCode(), accepted.body());
            events.put(JSON.readTree(accepted.body()).get("order_id").asText(), null);
        }
        accepting.terminate(Duration.ofSeconds(40));
        assertEquals(String.valueOf(orders), queryMap("""
                SELECT 'unpublished', count(*)::text FROM outbox WHERE published_at IS NULL AND topic = 'orders'""")
                .get("unpublished"));

        // the relay publishes them in one batch, then the process halts before marking them published
        ServiceProcess halting = start("relay-halts", 0, Map.of("readside.faults.halt-relay-after", "1"));
        assertEquals(99, halting.awaitExit(START), "halted by the fault injection");
        assertEquals(String.valueOf(orders), queryMap("""
                SELECT 'unpublished', count(*)::text FROM outbox WHERE published_at IS NULL AND topic = 'orders'""")
                .get("unpublished"), "the broker has them, the outbox does not know");

        // the next relay publishes them again; the projector applies each order once
        long start = System.nanoTime();
        service = start("service-after-relay-crash", 0);
        await("outbox published").atMost(DRAIN).until(() -> queryMap("""
                SELECT 'unpublished', count(*)::text FROM outbox WHERE published_at IS NULL""")
                .get("unpublished").equals("0"));
        awaitEverythingApplied();
        long millis = (System.nanoTime() - start) / 1_000_000;

        Map<String, Integer> copies = new TreeMap<>();
        for (ConsumerRecord<String, String> record : TopicReader.readAll(bootstrap(), "orders")) {
            if (record.key() != null && events.containsKey(record.key())) { // poison records may have no key
                String eventId = JSON.readTree(record.value()).get("event_id").asText();
                assertTrue(events.get(record.key()) == null || events.get(record.key()).equals(eventId),
                        "a copy carries the same event id");
                events.put(record.key(), eventId);
                copies.merge(record.key(), 1, Integer::sum);
            }
        }
        assertEquals(events.keySet(), copies.keySet(), "every accepted order was published");
        assertTrue(copies.values().stream().allMatch(n -> n >= 2), "each published again after the halt: " + copies);
        assertEquals(orders + "|" + sum.setScale(2), queryMap("""
                SELECT 'u', count(*) || '|' || sum(total) FROM orders WHERE user_id = 990001""").get("u"));
        assertEquals(orders + "|" + sum.setScale(2), queryMap("""
                SELECT 'u', order_count || '|' || total_spent FROM user_order_totals WHERE user_id = 990001""")
                .get("u"), "each order counted once in the user's totals");
        Map<String, Long> requested = outboxMessages("payment-requests", "payment.requested");
        assertEquals(events.keySet().stream().map(order -> order + "=1").toList(), events.keySet().stream()
                .map(order -> order + "=" + requested.get(order)).toList(), "one payment request per order");
        assertReady(service);
        figures.put("12 relay crash", orders + " commands accepted with the relay off; the relay halted after "
                + "publishing them, before marking; the next process republished and applied them in " + millis
                + " ms (incl. start-up); each order on the topic " + copies.values().stream().distinct().sorted()
                        .toList() + " times, counted once");
    }

    /**
     * The poison of this suite's traffic went through a broker outage, a PostgreSQL outage, refused outputs and a
     * relay crash: the dead letters are still exactly the poison records. (Each scenario before already ended with the
     * read model equal to the oracle; scenario 12's commands are not in the oracle's traffic, so it is not asked again.)
     */
    @Test
    @Order(13)
    void afterTheOutagesTheDeadLettersAreExactlyThePoison() {
        int copies = assertDeadLettersAreExactlyThePoison();
        figures.put("13 poison after the outages", traffic.poison.size() + " poison records of " + traffic.produced()
                + " (" + copies + " dead letters sent twice)");
    }
}
