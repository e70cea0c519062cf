package io.readside.orders;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.OwnTopicsInfrastructure;
import io.readside.testing.TestProducer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;

/**
 * Issue 23: a read model derived from orders that is new to a deployment with orders fills itself, after
 * readside.read-models.backfill-after (0 s in the tests), and is then marked filled: {@link BreakableReadModel} from the
 * retained log (a rebuild of it alone), skus from the orders table's latest versions; one of a deployment without
 * orders is filled at once. Their rows and registrations are deleted, as if they had just been deployed.
 */
@QuarkusTest
@TestProfile(OwnTopicsInfrastructure.class)
class ANewReadModelFillsItselfFromTheRetainedLogTest {

    private static final Duration APPLIED = Duration.ofSeconds(90);
    private static final long LONG_AGO = 1_700_000_000L;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;

    @Test
    void aNewReadModelFillsItselfFromTheRetainedLogAndIsThenFilled() {
        assertEquals("nothing to fill: no orders yet", filledHow("breakable"),
                "registered at start, before the channels consumed: nothing to fill");
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            for (int i = 0; i < 40; i++) {
                String id = "bf-" + (i % 25); // fifteen corrections
                producer.send("orders", id, "{\"order_id\":\"" + id + "\",\"user_id\":6701,\"category\":\"fill\","
                        + "\"total\":" + (i + 1) + ".25,\"timestamp\":" + (LONG_AGO + i) + ",\"items\":[{\"sku\":\"fill-"
                        + (i % 7) + "\",\"qty\":" + (1 + i % 3) + ",\"price\":" + (i + 1) + ".25}]}");
            }
        }
        await().atMost(APPLIED).until(() -> rows().size() == 25 && "40.25|2".equals(rows().get("bf-14")));
        Map<String, String> live = rows();
        Map<String, String> skus = skus();

        // deployed just now: their tables hold nothing of the orders before, and they were never seen
        pool.query("DELETE FROM breakable_totals").execute().await().atMost(APPLIED);
        pool.query("DELETE FROM sku_totals").execute().await().atMost(APPLIED);
        // and skus stopped on a failure too, what it missed waiting (its catch-up not due): the fill holds all of it
        pool.query("INSERT INTO read_model_stops (model, stopped_at, reason, stopped_on, last_attempt) "
                + "VALUES ('skus', now(), 'a test', 'orders-0@0', now() + interval '1 hour')").execute().await()
                .atMost(APPLIED);
        pool.query("INSERT INTO read_model_backlog (model, change) VALUES ('skus', '{}')").execute().await()
                .atMost(APPLIED);
        pool.query("DELETE FROM read_models WHERE model IN ('breakable', 'skus')").execute().await().atMost(APPLIED);

        await().atMost(Duration.ofMinutes(3)).until(() -> filledHow("breakable") != null
                && filledHow("breakable").startsWith("filled from the retained log"));
        assertEquals(live, rows(), "every order of the retained log, each change once");
        await().atMost(APPLIED).until(() -> "filled from the orders table's 25 latest versions".equals(filledHow("skus")));
        assertEquals(skus, skus(), "each order's latest items, from the orders table");
        assertEquals(0, pool.query("SELECT 1 FROM read_model_stops WHERE model = 'skus' UNION ALL "
                + "SELECT 1 FROM read_model_backlog WHERE model = 'skus'").execute().await().atMost(APPLIED).size(),
                "filled from every latest version, it has nothing left to catch up on: it joins");
        assertEquals(7, skus.size());
        given().get("/admin/rebuilds/breakable").then().statusCode(200).body("state", equalTo("DONE"));
        assertTrue(rows().keySet().stream().allMatch(id -> id.startsWith("bf-")));
    }

    private String filledHow(String model) {
        var rows = pool.preparedQuery("SELECT filled_how FROM read_models WHERE model = $1")
                .execute(io.vertx.mutiny.sqlclient.Tuple.of(model)).await().atMost(APPLIED);
        return rows.size() == 0 ? null : rows.iterator().next().getString(0);
    }

    private Map<String, String> skus() {
        Map<String, String> rows = new TreeMap<>();
        for (Row row : pool.query("SELECT sku, units, revenue, orders FROM sku_totals").execute().await()
                .atMost(APPLIED)) {
            rows.put(row.getString(0), row.getLong(1) + "|" + row.getBigDecimal(2).setScale(2) + "|" + row.getInteger(3));
        }
        return rows;
    }

    private Map<String, String> rows() {
        Map<String, String> rows = new TreeMap<>();
        for (Row row : pool.query("SELECT order_id, total, changes FROM breakable_totals").execute().await()
                .atMost(APPLIED)) {
            rows.put(row.getString(0), row.getBigDecimal(1).setScale(2) + "|" + row.getInteger(2));
        }
        return rows;
    }
}
