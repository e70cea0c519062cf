package io.readside.delivery;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.readside.testing.ServiceProcess;

/**
 * Faults injected into the packaged service's processes, on a real broker and a real PostgreSQL: SIGKILL under load,
 * a clean restart, a second instance joining and the first leaving, poison records, a full rebuild. Every scenario
 * ends with: read model == oracle (nothing lost, nothing counted twice) and the service ready. Transactional
 * producers, a recreated topic and three replicas are {@link LogsAndReplicasFaultInjectionIT}, the outages and the
 * outputs {@link OutagesFaultInjectionIT}; failsafe runs the three side by side.
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
        awaitCarriesOnAlone(second, "instance-b", 3_000);
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
}
