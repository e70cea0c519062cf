package io.readside.delivery;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.readside.projection.management.ManagementRoutes;
import io.readside.testing.ServiceProcess;

/**
 * Faults injected into the packaged service's processes, on a real broker and a real PostgreSQL: SIGKILL under load,
 * a clean restart, a second instance joining and the first leaving, poison records, a full rebuild, transactional
 * producers with a SIGKILL, the orders topic recreated under the service, three replicas scaled 1 -> 3 -> 1 with a
 * SIGKILL and two SIGTERMs. Every scenario ends with: read model == oracle (nothing lost, nothing counted twice) and
 * the service ready. The outages and the outputs are {@link OutagesFaultInjectionIT}, which failsafe runs beside it.
 */
class FaultInjectionIT extends FaultInjectionHarness {

    @Test
    @Order(1)
    void sigkillThreeTimesWhile100000OrdersFlowLosesNothingAndCountsNothingTwice() throws Exception {
        int total = ORDERS;
        long start = System.nanoTime();
        Thread producer = produceInBackground(total);
        for (int kill = 1; kill <= 3; kill++) {
            long threshold = (long) total * kill / 4;
            await("applied " + threshold).atMost(DRAIN).pollInterval(Duration.ofMillis(250))
                    .until(() -> appliedRecords() >= threshold);
            service.kill();
            service = start("service-1-after-kill-" + kill, 0);
        }
        producer.join();
        awaitEverythingApplied();
        long seconds = (System.nanoTime() - start) / 1_000_000_000;

        assertReadModelEqualsOracle();
        assertProcessedOrdersEndAtEachOrdersLatestVersion();
        assertReady(service);
        figures.put("1 sigkill", total + " orders, 3 SIGKILLs, drained in " + seconds + " s; the last process re-read "
                + (long) service.metric(DUPLICATE) + " records already applied (recognised, not counted)");
    }

    @Test
    @Order(2)
    void cleanRestartCommitsItsOffsetsLeavesTheGroupAndAppliesNoRecordTwice() throws Exception {
        Thread producer = produceInBackground(10_000);
        long before = appliedRecords();
        await().atMost(DRAIN).until(() -> appliedRecords() >= before + 3_000);
        Duration stopped = service.terminate(Duration.ofSeconds(40));

        assertTrue(groupMembers().isEmpty(), "the consumers left the group at shutdown, no session timeout");
        Map<TopicPartition, Long> stored = storedPositions("orders");
        assertEquals(stored, committedOffsets("orders"), "Kafka has the offsets PostgreSQL has");
        long appliedByFirst = stored.values().stream().mapToLong(Long::longValue).sum();

        service = start("service-2", 0);
        producer.join();
        awaitEverythingApplied();
        assertReadModelEqualsOracle();
        assertEquals(0, service.metric(DUPLICATE), "nothing read twice after a clean stop");
        assertEquals(traffic.produced() - appliedByFirst, service.metric(APPLIED) + service.metric(REJECTED),
                "the second process handled exactly the records the first had not");
        assertReady(service);
        figures.put("2 clean restart", "SIGTERM to exit " + stopped.toMillis() + " ms; group empty at once; "
                + "committed offsets == stored positions; 0 records read twice");
    }

    @Test
    @Order(3)
    void secondInstanceJoinsAndTheFirstLeavesMidStream() throws Exception {
        AtomicBoolean flowing = new AtomicBoolean(true);
        Thread producer = produceInBackground(flowing, 1_000);
        long before = appliedRecords();
        await().atMost(DRAIN).until(() -> appliedRecords() >= before + 2_000);
        ServiceProcess second = start("instance-b", 1);
        await("instance-b takes partitions and applies").atMost(START).until(() -> second.metric(APPLIED) > 0);
        long joined = appliedRecords();
        await().atMost(DRAIN).until(() -> appliedRecords() >= joined + 3_000);
        double appliedByFirst = service.metric(APPLIED);
        Duration left = service.terminate(Duration.ofSeconds(40));
        service = second;
        double appliedBySecondAtLeave = second.metric(APPLIED);
        await("instance-b carries on alone").atMost(DRAIN)
                .until(() -> second.metric(APPLIED) >= appliedBySecondAtLeave + 3_000);
        flowing.set(false);
        producer.join();
        awaitEverythingApplied();

        assertTrue(appliedByFirst > 0);
        assertReadModelEqualsOracle();
        assertReady(service);
        figures.put("3 join and leave", "orders at 1,000/s; instance b joined and applied alongside a, a left ("
                + left.toMillis() + " ms to exit), b applied " + (long) second.metric(APPLIED) + " in all");
    }

    @Test
    @Order(6)
    void onePercentPoisonIsExactlyWhatTheDeadLetterTopicHolds() {
        int copies = assertDeadLettersAreExactlyThePoison();
        assertReadModelEqualsOracle();
        figures.put("6 poison", traffic.poison.size() + " poison records of " + traffic.produced() + " ("
                + copies + " dead letters sent twice: their record was redelivered after a SIGKILL)");
    }

    @Test
    @Order(7)
    void fullRebuildLeavesTheTablesIdentical() throws Exception {
        Map<String, String> before = orderTables();
        assertEquals(202, service.postAsAdmin("/admin/rebuilds/orders").statusCode());
        AtomicReference<JsonNode> status = new AtomicReference<>();
        await("rebuild done").atMost(DRAIN).pollInterval(Duration.ofMillis(500)).until(() -> {
            status.set(JSON.readTree(service.getAsAdmin("/admin/rebuilds/orders")));
            return List.of("DONE", "FAILED").contains(status.get().get("state").asText());
        });
        assertEquals("DONE", status.get().get("state").asText(), status.get().toString());

        assertEquals(before, orderTables());
        assertReadModelEqualsOracle();
        assertReady(service);
        figures.put("7 rebuild", status.get().get("replayed_records").asLong() + " records replayed ("
                + status.get().get("invalid_records").asLong() + " invalid), writers held "
                + status.get().get("switch_millis").asLong() + " ms; tables identical");
    }

    @Test
    @Order(8)
    void transactionalProducersCommittedAndAbortedWithASigkillApplyExactlyTheCommittedRecords() throws Exception {
        int aborted = 0;
        for (int round = 1; round <= 4; round++) {
            traffic.produce(1_000);
            aborted += traffic.produceTransactions(60, bootstrap());
            if (round == 2) {
                service.kill();
                service = start("service-after-transactions-kill", 0);
            }
        }
        // markers and aborted records take offsets that are never delivered: the oracle decides, not the offsets
        await("read model == oracle over the committed records").atMost(DRAIN).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(this::assertReadModelEqualsOracle);
        await("no lag: markers and aborted records are not applicable").atMost(START).until(() -> JSON
                .readTree(service.managementGet(ManagementRoutes.LAG)).at("/totals/lag_records").asLong(-1) == 0);
        assertReady(service);
        figures.put("8 transactions", "240 transactions (" + aborted + " orders in aborted ones) mixed into 4,000 "
                + "plain orders, one SIGKILL; exactly the committed records applied; lag 0 at the end");
    }

    @Test
    @Order(9)
    void aRecreatedTopicIsFencedUntilAcceptedAndThenItsNewLogIsApplied() throws Exception {
        try (Admin admin = admin()) {
            admin.deleteTopics(List.of("orders")).all().get();
            await("orders recreated").atMost(START).ignoreExceptions().until(() -> {
                try {
                    admin.createTopics(List.of(new NewTopic("orders", PARTITIONS, (short) 1))).all().get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                        throw e;
                    }
                }
                return admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders")
                        .partitions().size() == PARTITIONS;
            });
        }
        Map<TopicPartition, Long> oldPositions = storedPositions("orders");
        // accepting the new log starts the positions, with their stream times, anew: so does the oracle
        traffic.fold.streamTime.clear();
        traffic.produce(2_000); // offsets from 0 again: below the stored positions
        await("fenced: readiness DOWN with the reason").atMost(START)
                .until(() -> service.managementStatus("/q/health/ready") == 503
                        && service.managementGet("/q/health/ready").contains("deleted and created again"));
        assertEquals(oldPositions, storedPositions("orders"), "nothing of the new log counted as seen");

        long fencedAt = System.nanoTime();
        assertEquals(200, service.postAsAdmin("/admin/topics/orders/accept-new-log").statusCode());
        traffic.produce(2_000);
        awaitEverythingApplied();
        long millis = (System.nanoTime() - fencedAt) / 1_000_000;

        assertReadModelEqualsOracle();
        assertReady(service);
        figures.put("9 recreated topic", "orders deleted and created again under the running service: fenced "
                + "(readiness DOWN with the reason, positions untouched) until accepted; then the new log's 4,000 "
                + "records applied in " + millis + " ms");
    }

    @Test
    @Order(10)
    void threeReplicasScaledOneToThreeToOneWithASigkillAndTwoSigtermsEndEachTopicAtTheTables() throws Exception {
        int perSecond = 800;
        long producedBefore = traffic.produced();
        long start = System.nanoTime();
        AtomicBoolean flowing = new AtomicBoolean(true);
        Thread producer = produceInBackground(flowing, perSecond); // a tenth are corrections, most to a new category
        awaitAppliedMore(2_000);

        // 1 -> 3: two replicas join while orders flow; each of the three gets partitions and applies
        ServiceProcess first = service;
        ServiceProcess second = start("replica-2", 1, Map.of());
        ServiceProcess third = start("replica-3", 2, Map.of());
        second.awaitReady(START);
        third.awaitReady(START);
        awaitEachApplies(List.of(first, second, third));
        awaitAppliedMore(3_000);

        // a crash with three replicas writing the same windows: the first (the relay's, most likely) is killed
        // mid-publication and comes back, as a pod does
        first.kill();
        ServiceProcess restarted = start("replica-1-after-kill", 0);
        awaitEachApplies(List.of(restarted, second, third));
        awaitAppliedMore(3_000);

        // 3 -> 1: two clean leaves at different times
        Duration secondLeft = second.terminate(Duration.ofSeconds(40));
        awaitAppliedMore(3_000);
        Duration thirdLeft = third.terminate(Duration.ofSeconds(40));
        service = restarted;
        double appliedAlone = restarted.metric(APPLIED);
        await("the last replica carries on alone").atMost(DRAIN)
                .until(() -> restarted.metric(APPLIED) >= appliedAlone + 2_000);
        flowing.set(false);
        producer.join();
        awaitEverythingApplied();
        awaitOutboxPublished();
        long seconds = (System.nanoTime() - start) / 1_000_000_000;

        assertReadModelEqualsOracle();
        assertProcessedOrdersEndAtEachOrdersLatestVersion();
        String revenue = assertRevenueTopicEndsAtEachWindowsRow();
        assertReady(service);
        figures.put("10 three replicas", (traffic.produced() - producedBefore) + " orders at " + perSecond
                + "/s with corrections; 1 -> 3 -> 1: SIGKILL of the first (restarted), SIGTERM of the second ("
                + secondLeft.toMillis() + " ms to exit) and of the third (" + thirdLeft.toMillis() + " ms); drained "
                + "and published in " + seconds + " s; tables == fold; processed-orders ends at each order's latest "
                + "version; " + revenue);
    }
}
