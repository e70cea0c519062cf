package io.readside.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.readside.projection.DeadLetters;

/**
 * The Kubernetes overlays as {@code kubectl kustomize} renders them, read strictly with the Kubernetes object model
 * (a misspelt field fails), and held against the application's own configuration: probe paths and the management
 * port they use, ports, topics, group, and a NetworkPolicy that opens each port to its own callers only.
 */
class DeploymentManifestsTest {

    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
    private static final Path K8S = Path.of("deploy", "k8s");
    /** The name of the container's, the Service's and the NetworkPolicy's port of the management interface. */
    private static final String MANAGEMENT = "management";
    /** Set by Kubernetes on every namespace to its name. */
    private static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

    @ParameterizedTest
    @ValueSource(strings = { "dev", "prod" })
    void overlayRendersValidObjectsThatMatchTheApplication(String overlay) throws Exception {
        List<JsonNode> objects = render(K8S.resolve("overlays").resolve(overlay));
        Properties app = applicationProperties();

        Deployment deployment = only(objects, "Deployment", Deployment.class);
        Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
        assertTrue(podLabels.entrySet().containsAll(deployment.getSpec().getSelector().getMatchLabels().entrySet()),
                "the Deployment's selector matches its pods");
        Container container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
        String image = container.getImage();
        assertTrue(image.contains(":") && !image.endsWith(":latest"), "a pinned image tag: " + image);
        assertEquals(8080, container.getPorts().get(0).getContainerPort());
        assertEquals("http", container.getPorts().get(0).getName());
        ContainerPort management = container.getPorts().stream().filter(p -> p.getName().equals(MANAGEMENT))
                .findFirst().orElseThrow(() -> new AssertionError("a container port named " + MANAGEMENT));
        assertEquals("true", app.getProperty("quarkus.management.enabled"));
        assertEquals(Integer.valueOf(app.getProperty("quarkus.management.port")), management.getContainerPort(),
                "the container's management port is the application's");
        assertProbe(container.getStartupProbe(), "/q/health/started");
        assertProbe(container.getLivenessProbe(), "/q/health/live");
        assertProbe(container.getReadinessProbe(), "/q/health/ready");
        assertNotNull(container.getResources().getRequests().get("cpu"));
        assertNotNull(container.getResources().getRequests().get("memory"));
        assertNotNull(container.getResources().getLimits().get("memory"));
        assertEquals(Boolean.FALSE, container.getSecurityContext().getAllowPrivilegeEscalation());
        assertEquals(Boolean.TRUE, container.getSecurityContext().getReadOnlyRootFilesystem());
        assertEquals(Boolean.TRUE, deployment.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot());
        long shutdown = Duration.parse("PT" + app.getProperty("%prod.quarkus.shutdown.timeout").toUpperCase()).toSeconds();
        assertTrue(deployment.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds() > shutdown,
                "the pod gets longer than the application's own shutdown");

        Service service = only(objects, "Service", Service.class);
        assertTrue(podLabels.entrySet().containsAll(service.getSpec().getSelector().entrySet()));
        assertEquals("http", service.getSpec().getPorts().get(0).getTargetPort().getStrVal());
        ServicePort serviceManagement = service.getSpec().getPorts().stream()
                .filter(p -> p.getName().equals(MANAGEMENT)).findFirst().orElseThrow();
        assertEquals(MANAGEMENT, serviceManagement.getTargetPort().getStrVal());
        assertNetworkPolicy(only(objects, "NetworkPolicy", NetworkPolicy.class), podLabels);
        PodDisruptionBudget pdb = only(objects, "PodDisruptionBudget", PodDisruptionBudget.class);
        assertTrue(podLabels.entrySet().containsAll(pdb.getSpec().getSelector().getMatchLabels().entrySet()));
        ConfigMap config = objects.stream().filter(o -> kind(o).equals("ConfigMap")
                && o.path("metadata").path("name").asText().startsWith("readside-config"))
                .map(o -> read(o, ConfigMap.class)).findFirst().orElseThrow();
        assertTrue(config.getData().containsKey("KAFKA_BOOTSTRAP_SERVERS"));
        // every token is refused without an issuer: each overlay names one and its key (dev: the repository's)
        assertTrue(config.getData().containsKey("MP_JWT_VERIFY_ISSUER"), "an issuer for the bearer tokens");
        if (overlay.equals("dev")) {
            assertEquals(Files.readString(Path.of("src/dev/jwt/dev-public.pem")).strip(),
                    config.getData().get("MP_JWT_VERIFY_PUBLICKEY").strip(), "the dev overlay trusts the dev key");
        } else {
            assertTrue(config.getData().containsKey("MP_JWT_VERIFY_PUBLICKEY_LOCATION"), "the issuer's keys");
        }

        Set<String> topics = new TreeSet<>();
        Map<String, Integer> partitions = new java.util.TreeMap<>();
        for (JsonNode topic : ofKind(objects, "KafkaTopic")) {
            assertEquals("kafka.strimzi.io/v1", topic.path("apiVersion").asText());
            String name = topic.path("spec").path("topicName").asText(topic.path("metadata").path("name").asText());
            topics.add(name);
            partitions.put(name, topic.path("spec").path("partitions").asInt());
        }
        assertTrue(topics.containsAll(applicationTopics(app)), "a KafkaTopic for every topic of the application: "
                + applicationTopics(app) + " in " + topics);
        JsonNode orders = ofKind(objects, "KafkaTopic").stream()
                .filter(topic -> topic.path("spec").path("topicName").asText().equals("orders")).findFirst()
                .orElseThrow();
        assertTimestampBound(app, orders.path("spec").path("config").path(TIMESTAMP_AFTER_MAX).asText(""),
                "KafkaTopic orders");

        List<JsonNode> scaledObjects = ofKind(objects, "ScaledObject");
        assertEquals(1, scaledObjects.size());
        JsonNode scaled = scaledObjects.get(0).path("spec");
        assertEquals(deployment.getMetadata().getName(), scaled.path("scaleTargetRef").path("name").asText());
        JsonNode trigger = scaled.path("triggers").get(0);
        assertEquals("kafka", trigger.path("type").asText());
        assertEquals(app.getProperty("mp.messaging.incoming.orders.group.id"),
                trigger.path("metadata").path("consumerGroup").asText());
        String scaledTopic = trigger.path("metadata").path("topic").asText();
        assertTrue(applicationTopics(app).contains(scaledTopic));
        assertTrue(scaled.path("maxReplicaCount").asInt() <= partitions.get(scaledTopic),
                "no more replicas than partitions");
        assertTrue(ofKind(objects, "HorizontalPodAutoscaler").isEmpty(), "KEDA's is the only autoscaler");

        if (overlay.equals("prod")) {
            JsonNode rule = ofKind(objects, "PrometheusRule").get(0);
            JsonNode rules = new YAMLMapper().readTree(Path.of("deploy", "prometheus", "readside-alerts.yaml").toFile());
            assertEquals(rules.path("groups"), rule.path("spec").path("groups"),
                    "the PrometheusRule carries deploy/prometheus/readside-alerts.yaml");
            JsonNode monitor = ofKind(objects, "ServiceMonitor").get(0).path("spec");
            assertEquals("/q/metrics", monitor.path("endpoints").get(0).path("path").asText());
            assertEquals(MANAGEMENT, monitor.path("endpoints").get(0).path("port").asText(),
                    "Prometheus scrapes the management interface");
            assertFalse(ofKind(objects, "ConfigMap").stream().noneMatch(
                    o -> o.path("data").has("readside-dashboard.json")), "the Grafana dashboard ships");
        }
    }

    /** The broker's bound on how far ahead of its clock a record's timestamp may be (Kafka 4's default: 1 h). */
    static final String TIMESTAMP_AFTER_MAX = "message.timestamp.after.max.ms";

    /**
     * A producer whose whole clock runs ahead stamps its records ahead too, so the service's own skew bound (event
     * time against the record's timestamp) cannot see it: the broker must refuse such records, with a bound no
     * looser than the service's {@code readside.orders.max-clock-skew}.
     */
    static void assertTimestampBound(Properties app, String bound, String where) {
        long skew = Duration.parse("PT" + app.getProperty("readside.orders.max-clock-skew").toUpperCase()).toMillis();
        assertTrue(bound.matches("[0-9]{1,12}") && Long.parseLong(bound) <= skew, where + " sets "
                + TIMESTAMP_AFTER_MAX + " at most readside.orders.max-clock-skew (" + skew + " ms), got '" + bound
                + "'");
    }

    @org.junit.jupiter.api.Test
    void composeCreatesOrdersWithTheBrokersTimestampBound() throws IOException {
        java.util.regex.Matcher create = java.util.regex.Pattern.compile(
                "create orders [^\\n]*--config " + java.util.regex.Pattern.quote(TIMESTAMP_AFTER_MAX) + "=([0-9]+)")
                .matcher(Files.readString(Path.of("docker-compose.yaml")));
        assertTrue(create.find(), "docker-compose.yaml creates orders with " + TIMESTAMP_AFTER_MAX);
        assertTimestampBound(applicationProperties(), create.group(1), "docker-compose.yaml");
    }

    private static void assertProbe(Probe probe, String path) {
        assertNotNull(probe, path);
        assertEquals(path, probe.getHttpGet().getPath());
        assertEquals(MANAGEMENT, probe.getHttpGet().getPort().getStrVal(), "probes use the management port");
    }

    /**
     * Ingress only: the API port from the ingress/gateway namespace, the management port from the monitoring
     * namespace, each rule for one port and from one namespace, nothing else open.
     */
    private static void assertNetworkPolicy(NetworkPolicy policy, Map<String, String> podLabels) {
        assertTrue(podLabels.entrySet().containsAll(policy.getSpec().getPodSelector().getMatchLabels().entrySet()),
                "the NetworkPolicy selects Readside's pods");
        assertEquals(List.of("Ingress"), policy.getSpec().getPolicyTypes());
        Map<String, String> fromNamespaceByPort = new java.util.TreeMap<>();
        for (NetworkPolicyIngressRule rule : policy.getSpec().getIngress()) {
            assertEquals(1, rule.getFrom().size(), "one source per rule: " + rule);
            assertEquals(1, rule.getPorts().size(), "one port per rule: " + rule);
            NetworkPolicyPeer from = rule.getFrom().get(0);
            assertTrue(from.getPodSelector() == null && from.getIpBlock() == null, "whole namespaces: " + rule);
            String namespace = from.getNamespaceSelector().getMatchLabels().get(NAMESPACE_NAME_LABEL);
            assertNotNull(namespace, "a namespace chosen by " + NAMESPACE_NAME_LABEL + ": " + rule);
            assertNull(fromNamespaceByPort.put(rule.getPorts().get(0).getPort().getStrVal(), namespace),
                    "one rule per port");
        }
        assertEquals(Map.of("http", "ingress-nginx", MANAGEMENT, "monitoring"), fromNamespaceByPort);
    }

    /**
     * Every topic the application reads or writes, from its configuration; the dead-letters channel writes to
     * {@code <topic>.dlq} of each topic read, the outbox relay to the saga's command topics.
     */
    private static Set<String> applicationTopics(Properties app) {
        Set<String> topics = new TreeSet<>();
        for (String key : app.stringPropertyNames()) {
            if (key.matches("mp\\.messaging\\.incoming\\.[^.]+\\.topic")) {
                topics.add(app.getProperty(key));
                topics.add(app.getProperty(key) + DeadLetters.SUFFIX);
            } else if (key.matches("mp\\.messaging\\.outgoing\\.[^.]+\\.topic")
                    && !key.equals("mp.messaging.outgoing." + DeadLetters.CHANNEL + ".topic")) {
                topics.add(app.getProperty(key));
            } else if (key.matches("readside\\.saga\\.[a-z-]+-topic")) { // published by the outbox relay
                topics.add(app.getProperty(key));
            }
        }
        assertFalse(topics.isEmpty());
        return topics;
    }

    private static Properties applicationProperties() throws IOException {
        Properties properties = new Properties();
        try (InputStream in = Files.newInputStream(Path.of("src", "main", "resources", "application.properties"))) {
            properties.load(in);
        }
        return properties;
    }

    private static List<JsonNode> render(Path overlay) throws Exception {
        Process kubectl = new ProcessBuilder("kubectl", "kustomize", overlay.toString()).redirectErrorStream(true)
                .start();
        String output = new String(kubectl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(kubectl.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, kubectl.exitValue(), output);
        List<JsonNode> objects = new ArrayList<>();
        new YAMLMapper().readValues(new YAMLFactory().createParser(output), JsonNode.class)
                .forEachRemaining(objects::add);
        return objects;
    }

    private static <T> T only(List<JsonNode> objects, String kind, Class<T> type) {
        List<JsonNode> found = ofKind(objects, kind);
        assertEquals(1, found.size(), kind);
        return read(found.get(0), type);
    }

    /** Reads with the object model and fails on any field the model does not know (kept in additionalProperties). */
    private static <T> T read(JsonNode object, Class<T> type) {
        try {
            T parsed = STRICT.treeToValue(object, type);
            List<String> unknown = new ArrayList<>();
            unknownFields(parsed, type.getSimpleName(), unknown, new IdentityHashMap<>());
            assertTrue(unknown.isEmpty(), "fields Kubernetes does not know: " + unknown);
            return parsed;
        } catch (IOException e) {
            throw new AssertionError("not a valid " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    private static void unknownFields(Object value, String path, List<String> unknown, Map<Object, Object> seen) {
        if (value == null || seen.put(value, value) != null) {
            return;
        }
        if (value instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                unknownFields(item, path + "[" + i++ + "]", unknown, seen);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> unknownFields(v, path + "." + k, unknown, seen));
            return;
        }
        if (!value.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method getter : value.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || !getter.getName().startsWith("get")
                    || getter.getDeclaringClass() == Object.class) {
                continue;
            }
            try {
                Object property = getter.invoke(value);
                if (getter.getName().equals("getAdditionalProperties")) {
                    ((Map<?, ?>) property).keySet().forEach(k -> unknown.add(path + "." + k));
                } else {
                    unknownFields(property, path + "." + getter.getName().substring(3), unknown, seen);
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static List<JsonNode> ofKind(List<JsonNode> objects, String kind) {
        return objects.stream().filter(o -> kind(o).equals(kind)).toList();
    }

    private static String kind(JsonNode object) {
        return object.path("kind").asText();
    }
}
