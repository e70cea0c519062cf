package io.readside.delivery;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import io.readside.projection.management.ManagementRoutes;
import io.readside.testing.ServiceProcess;

/**
 * Faults in the logs the packaged service reads and in how many replicas read them, on a real broker and a real
 * PostgreSQL: transactional producers with a SIGKILL, the orders topic recreated under the service, three replicas
 * scaled 1 -> 3 -> 1 with a SIGKILL and two SIGTERMs, an instance with two consumers of orders joining, SIGKILLed and
 * back with two, then carrying on alone once the one-consumer instance left. Every scenario ends with: read model ==
 * oracle (nothing lost, nothing counted twice) and the service ready. Failsafe runs it beside
 * {@link FaultInjectionIT} and {@link OutagesFaultInjectionIT}, each suite with its own broker, database and service.
 */
class LogsAndReplicasFaultInjectionIT extends FaultInjectionHarness {

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
        // as scenario 6 for FaultInjectionIT's traffic; asked before scenario 9, whose new log starts its offsets anew
        int copies = assertDeadLettersAreExactlyThePoison();
        figures.put("8 transactions", "240 transactions (" + aborted + " orders in aborted ones) mixed into 4,000 "
                + "plain orders, one SIGKILL; exactly the committed records applied; lag 0 at the end; orders.dlq "
                + "exactly the " + traffic.poison.size() + " poison records (" + copies + " sent twice)");
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
        carriesOnAloneThenDrains(restarted, "the last replica", flowing, producer);
        long seconds = (System.nanoTime() - start) / 1_000_000_000;

        String revenue = assertTablesAndOutputsAndReady();
        figures.put("10 three replicas", (traffic.produced() - producedBefore) + " orders at " + perSecond
                + "/s with corrections; 1 -> 3 -> 1: SIGKILL of the first (restarted), SIGTERM of the second ("
                + secondLeft.toMillis() + " ms to exit) and of the third (" + thirdLeft.toMillis() + " ms); drained "
                + "and published in " + seconds + " s; tables == fold; processed-orders ends at each order's latest "
                + "version; " + revenue);
    }

    @Test
    @Order(14)
    void anInstanceWithTwoConsumersJoinsCrashesAndCarriesOnAloneApplyingEveryRecordOnce() throws Exception {
        long producedBefore = traffic.produced();
        AtomicBoolean flowing = new AtomicBoolean(true);
        Thread producer = produceInBackground(flowing, 1_000);
        awaitAppliedMore(2_000);

        // an instance with two consumers of orders (mp.messaging.incoming.orders.concurrency) joins the one with one
        Map<String, String> twoConsumers = Map.of("mp.messaging.incoming.orders.concurrency", "2");
        ServiceProcess one = service;
        ServiceProcess two = start("two-consumers", 1, twoConsumers).awaitReady(START);
        awaitEachApplies(List.of(one, two));
        await("three consumers of orders in the group").atMost(START).pollInterval(Duration.ofMillis(500))
                .ignoreExceptions().until(() -> ordersConsumers().size() == 3);
        awaitAppliedMore(3_000);

        // killed mid-stream with both consumers applying, it comes back with two
        two.kill();
        ServiceProcess back = start("two-consumers-after-kill", 1, twoConsumers).awaitReady(START);
        awaitEachApplies(List.of(one, back));
        awaitAppliedMore(3_000);

        // the instance with one consumer leaves: the two carry on alone
        Duration left = one.terminate(Duration.ofSeconds(40));
        carriesOnAloneThenDrains(back, "the instance with two consumers", flowing, producer);

        assertEquals(2, ordersConsumers().size(), "its two consumers of orders: " + groupMembers());
        String revenue = assertTablesAndOutputsAndReady();
        figures.put("14 two consumers", (traffic.produced() - producedBefore) + " orders at 1,000/s; an instance "
                + "with two consumers of orders joined one with one, was SIGKILLed and came back with two, the other "
                + "left (" + left.toMillis() + " ms to exit); tables == fold; processed-orders ends at each order's "
                + "latest version; " + revenue);
    }

    /** {@code last}, the only instance left, applies 2,000 more; then the flow stops, all applied and published. */
    private void carriesOnAloneThenDrains(ServiceProcess last, String name, AtomicBoolean flowing, Thread producer)
            throws InterruptedException {
        service = last;
        awaitCarriesOnAlone(last, name, 2_000);
        flowing.set(false);
        producer.join();
        awaitEverythingApplied();
        awaitOutboxPublished();
    }

    /**
     * The tables equal the fold, processed-orders and revenue-by-category end at the rows, the service is ready.
     *
     * @return what the revenue topic's check found, for the figures
     */
    private String assertTablesAndOutputsAndReady() throws Exception {
        assertReadModelEqualsOracle();
        assertProcessedOrdersEndAtEachOrdersLatestVersion();
        String revenue = assertRevenueTopicEndsAtEachWindowsRow();
        assertReady(service);
        return revenue;
    }

    private List<String> ordersConsumers() throws Exception {
        return groupMembers().stream().filter(id -> id.contains("orders")).toList();
    }
}
