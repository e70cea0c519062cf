package io.readside.skus;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.consistency.ConsistencyToken;
import io.readside.testing.CommandsInfrastructure;
import io.readside.testing.TestProducer;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.vertx.mutiny.sqlclient.Pool;

/**
 * Seeded-random orders with items (corrections, identical copies, items without a SKU or a price) through a real
 * broker into a real PostgreSQL; the skus read model and its queries are compared with the test's own account of
 * each order's latest items, to the cent. A command's consistency token makes its order's SKUs readable at once.
 */
@QuarkusTest
@TestProfile(CommandsInfrastructure.class)
class SkusEndToEndTest {

    private static final Duration APPLIED = Duration.ofSeconds(90);
    private static final long T0 = 1_700_000_000L; // a past day: no partition's stream time moves
    private static final int ORDERS = 300;
    private static final String PREFIX = "e2e-sku-";

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;

    private record Item(String sku, int qty, BigDecimal price) {
    }

    private record Sent(long createdAt, List<Item> items) {
    }

    @Test
    void everySkusUnitsRevenueAndOrdersAreThoseOfEachOrdersLatestItemsAndTheRankingToo() {
        Random random = new Random(20261206);
        Map<String, Sent> latest = new HashMap<>();
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            for (int i = 0; i < ORDERS; i++) {
                String id = i > 20 && random.nextInt(5) == 0 ? "sku-o-" + random.nextInt(i) : "sku-o-" + i;
                Sent sent = latest.containsKey(id) && random.nextInt(4) == 0 ? latest.get(id) // an identical copy
                        : new Sent(T0 + i * 7L, items(random));
                latest.put(id, sent);
                producer.send("orders", id, json(id, sent));
            }
        }
        Map<String, String> expected = new TreeMap<>();
        Map<String, long[]> units = new HashMap<>();
        Map<String, BigDecimal> revenue = new HashMap<>();
        latest.values().forEach(sent -> {
            Map<String, Boolean> listed = new HashMap<>();
            for (Item item : sent.items()) {
                if (item.sku() == null) {
                    continue;
                }
                units.computeIfAbsent(item.sku(), s -> new long[2])[0] += item.qty();
                if (listed.put(item.sku(), true) == null) {
                    units.get(item.sku())[1]++;
                }
                revenue.merge(item.sku(), item.price() == null ? BigDecimal.ZERO
                        : item.price().multiply(BigDecimal.valueOf(item.qty())), BigDecimal::add);
            }
        });
        units.forEach((sku, counts) -> expected.put(sku, counts[0] + "|" + revenue.get(sku).setScale(2) + "|"
                + counts[1]));

        await().atMost(APPLIED).until(() -> expected.equals(totals()));

        String sku = expected.keySet().iterator().next();
        JsonPath one = given().get("/skus/{sku}", sku).then().statusCode(200).extract().jsonPath();
        assertEquals(expected.get(sku), one.getLong("units") + "|" + new BigDecimal(one.getString("revenue"))
                .setScale(2) + "|" + one.getInt("orders"));

        List<String> ranked = new ArrayList<>(expected.keySet());
        ranked.removeIf(s -> units.get(s)[0] == 0 && revenue.get(s).signum() == 0);
        ranked.sort(Comparator.comparing((String s) -> revenue.get(s)).reversed()
                .thenComparing(s -> -units.get(s)[0]).thenComparing(s -> s));
        List<String> top = given().get("/skus/top?from={from}&to={to}&limit=5", Instant.ofEpochSecond(T0).toString(),
                Instant.ofEpochSecond(T0 + 3600).toString()).then().statusCode(200).extract().jsonPath()
                .getList("skus.sku");
        assertEquals(ranked.subList(0, 5), top);
    }

    @Test
    void aCommandsConsistencyTokenMakesItsSkusReadableAtOnce() {
        String token = given().contentType(ContentType.JSON).body("""
                {"user_id":730001,"category":"books","items":[{"sku":"sku-token-1","qty":4,"price":"2.50"}]}""")
                .post("/orders").then().statusCode(202).extract().header(ConsistencyToken.HEADER);
        given().header(ConsistencyToken.HEADER, token).get("/skus/sku-token-1").then().statusCode(200)
                .body("units", equalTo(4)).body("revenue", equalTo("10.00")).body("orders", equalTo(1));
    }

    @Test
    void anUnknownSkuIsA404ProblemAndARangeTooLongA400() {
        given().get("/skus/no-such-sku").then().statusCode(404).contentType("application/problem+json")
                .body("detail", containsString("no-such-sku"));
        given().get("/skus/top?from=2025-01-01T00:00:00Z&to=2025-06-01T00:00:00Z").then().statusCode(400)
                .contentType("application/problem+json").body("detail", containsString("longer than"));
        given().get("/skus/top?from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z").then().statusCode(400);
        given().get("/skus/" + "x".repeat(101)).then().statusCode(400).contentType("application/problem+json");
    }

    private static List<Item> items(Random random) {
        List<Item> items = new ArrayList<>();
        for (int n = random.nextInt(4); n >= 0; n--) {
            int kind = random.nextInt(10);
            String sku = kind == 0 ? null : PREFIX + random.nextInt(12);
            BigDecimal price = kind == 1 ? null : BigDecimal.valueOf(1 + random.nextInt(5000), 2);
            items.add(new Item(sku, 1 + random.nextInt(5), price));
        }
        return items;
    }

    private static String json(String id, Sent sent) {
        StringBuilder items = new StringBuilder();
        for (Item item : sent.items()) {
            items.append(items.length() == 0 ? "" : ",").append("{");
            if (item.sku() != null) {
                items.append("\"sku\":\"").append(item.sku()).append("\",");
            }
            items.append("\"qty\":").append(item.qty());
            if (item.price() != null) {
                items.append(",\"price\":").append(item.price().toPlainString());
            }
            items.append("}");
        }
        return "{\"order_id\":\"" + id + "\",\"user_id\":7301,\"category\":\"skus\",\"total\":1.00,\"timestamp\":"
                + sent.createdAt() + ",\"items\":[" + items + "]}";
    }

    private Map<String, String> totals() {
        Map<String, String> rows = new TreeMap<>();
        pool.query("SELECT sku, units, revenue, orders FROM sku_totals WHERE sku LIKE '" + PREFIX + "%'").execute()
                .await().atMost(APPLIED).forEach(row -> rows.put(row.getString("sku"), row.getLong("units") + "|"
                        + row.getBigDecimal("revenue").setScale(2) + "|" + row.getInteger("orders")));
        return rows;
    }
}
