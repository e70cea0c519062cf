package io.readside.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.CommandsInfrastructure;
import io.readside.testing.GuideEvents;
import io.readside.testing.Management;
import io.readside.testing.TestProducer;

/**
 * Every metric name in the alert rules, the PrometheusRule and the Grafana dashboard is one the running service
 * exports: a renamed metric fails the build, not a night on call.
 */
@QuarkusTest
@TestProfile(CommandsInfrastructure.class)
class AlertsAndDashboardUseExportedMetricsTest {

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    private static final Path RULES = Path.of("deploy/prometheus/readside-alerts.yaml");
    private static final Path PROMETHEUS_RULE = Path.of("deploy/k8s/components/monitoring/prometheusrule.yaml");
    private static final Path DASHBOARD = Path.of("deploy/k8s/components/monitoring/readside-dashboard.json");

    /** PromQL's functions, aggregations and keywords: every other identifier outside labels is a metric name. */
    private static final Set<String> PROMQL = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "and", "or", "unless", "bool", "offset", "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk",
            "bottomk", "quantile", "count_values", "group", "rate", "irate", "increase", "delta", "idelta", "deriv",
            "changes", "resets", "abs", "absent", "absent_over_time", "ceil", "floor", "round", "clamp", "clamp_min",
            "clamp_max", "histogram_quantile", "label_replace", "label_join", "predict_linear", "scalar", "vector",
            "sort", "sort_desc", "time", "timestamp", "avg_over_time", "min_over_time", "max_over_time",
            "sum_over_time", "count_over_time", "quantile_over_time", "last_over_time", "present_over_time", "inf",
            "nan");
    private static final Pattern LABEL_LISTS = Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

    @Test
    void everyMetricNamedInAlertsAndTheDashboardIsExported() throws IOException {
        Set<String> named = new TreeSet<>();
        for (String expression : expressions()) {
            named.addAll(metricNames(expression));
        }
        assertTrue(named.containsAll(Set.of("readside_consumer_lag_records", "readside_ready",
                "readside_records_set_aside_total")), "the expressions were read: " + named);

        // the per-partition and per-topic series exist once the topics do and their partitions are assigned
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            producer.send("user-events", "6101", GuideEvents.signup(61, 6101, "metrics@example.com", "1764229000"));
            producer.send("orders", "metrics-1", "{\"order_id\":\"metrics-1\",\"user_id\":6101,"
                    + "\"category\":\"books\",\"total\":\"1.00\",\"timestamp\":" + Instant.now().getEpochSecond()
                    + "}");
        }
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            Set<String> exported = exported(Management.given().get("/q/metrics").then().statusCode(200).extract().asString());
            Set<String> missing = new TreeSet<>(named);
            missing.removeAll(exported);
            assertTrue(missing.isEmpty(), "named in alerts or the dashboard but not exported: " + missing);
        });
    }

    @Test
    void metricNamesAreReadFromPromQl() {
        assertEquals(Set.of("readside_apply_duration_seconds_bucket"), metricNames("histogram_quantile(0.99, sum by "
                + "(le, channel) (rate(readside_apply_duration_seconds_bucket{channel=~\"$channel\"}[$__rate_interval])))"));
        assertEquals(Set.of("readside_ready", "readside_kafka_reachable"), metricNames(
                "min without (instance) (readside_ready) == 0 and on (pod) readside_kafka_reachable offset 5m > 0.5"));
    }

    private static List<String> expressions() throws IOException {
        List<String> expressions = new ArrayList<>();
        YAMLMapper yaml = new YAMLMapper();
        for (JsonNode group : yaml.readTree(RULES.toFile()).path("groups")) {
            group.path("rules").forEach(rule -> expressions.add(rule.path("expr").asText()));
        }
        for (JsonNode group : yaml.readTree(PROMETHEUS_RULE.toFile()).path("spec").path("groups")) {
            group.path("rules").forEach(rule -> expressions.add(rule.path("expr").asText()));
        }
        collect(new ObjectMapper().readTree(Files.readString(DASHBOARD)), expressions);
        assertTrue(expressions.size() > 10, "alert rules and dashboard panels found: " + expressions.size());
        return expressions;
    }

    private static void collect(JsonNode node, List<String> expressions) {
        if (node.isObject()) {
            node.fields().forEachRemaining(field -> {
                if (field.getKey().equals("expr") && field.getValue().isTextual()) {
                    expressions.add(field.getValue().asText());
                } else {
                    collect(field.getValue(), expressions);
                }
            });
        } else if (node.isArray()) {
            node.forEach(element -> collect(element, expressions));
        }
    }

    /** The metric names of a PromQL expression: labels, strings, ranges, numbers and PromQL's own words removed. */
    static Set<String> metricNames(String expression) {
        String bare = expression.replaceAll("\\{[^}]*\\}", " ").replaceAll("\"[^\"]*\"", " ")
                .replaceAll("\\[[^\\]]*\\]", " ");
        bare = LABEL_LISTS.matcher(bare).replaceAll(" ");
        Set<String> names = new TreeSet<>();
        Matcher identifier = IDENTIFIER.matcher(bare);
        while (identifier.find()) {
            String word = identifier.group();
            int end = identifier.end();
            boolean unit = identifier.start() > 0 && Character.isDigit(bare.charAt(identifier.start() - 1));
            if (!PROMQL.contains(word.toLowerCase()) && !unit && !word.startsWith("$")) {
                names.add(word);
            }
            identifier.region(end, bare.length());
        }
        return names;
    }

    /** The series names of a Prometheus text exposition. */
    private static Set<String> exported(String exposition) {
        Set<String> names = new TreeSet<>();
        for (String line : exposition.split("\n")) {
            if (!line.isEmpty() && !line.startsWith("#")) {
                Matcher name = IDENTIFIER.matcher(line);
                if (name.lookingAt()) {
                    names.add(name.group());
                }
            }
        }
        return names;
    }
}
