package io.readside.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.readside.projection.DeadLetters;

/**
 * The Kubernetes overlays as {@code kubectl kustomize} renders them, read strictly with the Kubernetes object model
 * (a misspelt field fails), and held against the application's own configuration: probe paths and the management
 * port they use, ports, topics, group, and a NetworkPolicy that opens each port to its own callers only; where an
 * overlay runs a CloudNativePG Cluster, that Readside writes to its primary, queries its replicas and logs in with
 * the credentials the operator made.
 */
class DeploymentManifestsTest {

    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
    private static final Path K8S = Path.of("deploy", "k8s");
    /** The name of the container's, the Service's and the NetworkPolicy's port of the management interface. */
    private static final String MANAGEMENT = "management";
    /** Set by Kubernetes on every namespace to its name. */
    private static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

    /** Every overlay under deploy/k8s/overlays (as .ci/run renders them): a new one is checked without listing it. */
    static Stream<String> overlays() throws IOException {
        List<String> overlays;
        try (Stream<Path> dirs = Files.list(K8S.resolve("overlays"))) {
            overlays = dirs.filter(dir -> Files.isRegularFile(dir.resolve("kustomization.yaml")))
                    .map(dir -> dir.getFileName().toString()).sorted().toList();
        }
        assertTrue(overlays.containsAll(List.of("dev", "prod", CNPG_OVERLAY)), "the overlays found: " + overlays);
        return overlays.stream();
    }

    @ParameterizedTest
    @MethodSource("overlays")
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

        List<JsonNode> clusters = objects.stream()
                .filter(o -> kind(o).equals("Cluster") && o.path("apiVersion").asText().startsWith(CNPG_GROUP + "/"))
                .toList();
        if (overlay.equals(CNPG_OVERLAY)) {
            assertEquals(1, clusters.size(), "the " + CNPG_OVERLAY + " overlay runs its own CloudNativePG Cluster");
        }
        for (JsonNode cluster : clusters) {
            assertReadsideUsesTheCluster(cluster, deployment, objects, app, scaled.path("maxReplicaCount").asInt());
        }

        // prod ships monitoring; an overlay that ships any of it (cnpg, built on prod) ships it whole and right
        boolean monitored = !ofKind(objects, "PrometheusRule").isEmpty()
                || !ofKind(objects, "ServiceMonitor").isEmpty();
        if (monitored || overlay.equals("prod")) {
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

    /** The overlay with a CloudNativePG Cluster as Readside's database (docs/deploy.md). */
    static final String CNPG_OVERLAY = "cnpg";
    /** The API group of CloudNativePG's resources. */
    static final String CNPG_GROUP = "postgresql.cnpg.io";
    /** CloudNativePG serves every instance, and so its -rw and -ro services, on PostgreSQL's port; it has no other. */
    static final int CNPG_PORT = 5432;

    /**
     * Readside on a CloudNativePG Cluster: one primary and two streaming replicas; the write URLs (reactive and
     * Flyway's JDBC) name the Cluster's -rw service, the query replicas its -ro service, with the Cluster's port and
     * database; the credentials are the keys of the -app Secret the operator creates, and no other Secret is needed.
     */
    private static void assertReadsideUsesTheCluster(JsonNode cluster, Deployment deployment, List<JsonNode> objects,
            Properties app, int maxReadsideReplicas) {
        assertEquals(CNPG_GROUP + "/v1", cluster.path("apiVersion").asText());
        String name = cluster.path("metadata").path("name").asText();
        String namespace = cluster.path("metadata").path("namespace").asText();
        JsonNode spec = cluster.path("spec");
        assertEquals(3, spec.path("instances").asInt(), "Cluster " + name + ": one primary and two replicas");
        String image = spec.path("imageName").asText();
        Matcher tag = Pattern.compile("ghcr\\.io/cloudnative-pg/postgresql:([0-9]+)\\.[0-9]+(-[a-z0-9]+)*")
                .matcher(image);
        assertTrue(tag.matches() && Integer.parseInt(tag.group(1)) >= 15,
                "a pinned PostgreSQL 15 or later from ghcr.io/cloudnative-pg/postgresql: '" + image + "'");
        assertFalse(spec.path("storage").path("size").asText().isEmpty(), "Cluster " + name + " sizes its storage");
        assertFalse(spec.path("resources").path("requests").path("memory").asText().isEmpty(), "a memory request");
        assertFalse(spec.path("resources").path("limits").path("memory").asText().isEmpty(), "a memory limit");
        for (JsonNode disabled : spec.path("managed").path("services").path("disabledDefaultServices")) {
            assertFalse(disabled.asText().equals("ro"), "Cluster " + name + " keeps its -ro service");
        }
        JsonNode initdb = spec.path("bootstrap").path("initdb");
        assertTrue(initdb.isObject(), "Cluster " + name + " creates its database (bootstrap.initdb)");
        // with a secret of its own, the operator creates no -app Secret
        assertTrue(initdb.path("secret").isMissingNode(), "the operator creates " + name + "-app");
        String database = initdb.path("database").asText("app"); // CloudNativePG's default

        Container container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
        String readsideNamespace = deployment.getMetadata().getNamespace();
        Map<String, EnvValue> env = environment(container, objects);
        for (String key : List.of("quarkus.datasource.reactive.url", "quarkus.datasource.jdbc.url")) {
            assertTrue(app.containsKey(key), key);
            String url = literal(env, key);
            assertEquals(namespace + "/" + name + "-rw", service(url, database, readsideNamespace),
                    key + " is the Cluster's primary (-rw): " + url);
        }
        String replicas = literal(env, "readside.query.replicas");
        for (String url : replicas.split(",")) {
            assertEquals(namespace + "/" + name + "-ro", service(url.strip(), database, readsideNamespace),
                    "readside.query.replicas are the Cluster's replicas (-ro): " + replicas);
        }

        String secret = name + "-app";
        assertEquals(EnvValue.fromSecret(secret, "username"), env.get(envName("quarkus.datasource.username")),
                "the user from the Cluster's -app Secret");
        assertEquals(EnvValue.fromSecret(secret, "password"), env.get(envName("quarkus.datasource.password")),
                "the password from the Cluster's -app Secret");
        assertEquals(Set.of(secret), secretsReferenced(deployment),
                "the pods need no Secret but the Cluster's (not base/secret.template.yaml's)");

        // every Readside pod's pools at once, 3 connections kept for superusers. The primary: the reactive pool and
        // Flyway's JDBC pool; a replica: the query pool, all pods' on one replica at worst (the -ro Service spreads
        // connections, not queries). A standby needs max_connections no lower than its primary's: one setting.
        long onPrimary = Long.parseLong(app.getProperty("quarkus.datasource.reactive.max-size"))
                + Long.parseLong(app.getProperty("quarkus.datasource.jdbc.max-size"));
        long onReplica = Long.parseLong(app.getProperty("readside.query.replica-pool-size", "0"));
        long needed = maxReadsideReplicas * Math.max(onPrimary, onReplica) + 3;
        long maxConnections = spec.path("postgresql").path("parameters").path("max_connections").asLong(100);
        assertTrue(maxConnections >= needed, "Cluster " + name + "'s max_connections (" + maxConnections
                + ") holds " + maxReadsideReplicas + " Readside pods' pools: at least " + needed);
        // the Cluster's pods are reached on PostgreSQL's port: Readside's NetworkPolicy must not restrict egress
        for (NetworkPolicy policy : ofKind(objects, "NetworkPolicy").stream().map(o -> read(o, NetworkPolicy.class))
                .toList()) {
            assertFalse(policy.getSpec().getPolicyTypes().contains("Egress"),
                    "an egress policy would have to let Readside reach " + name + "'s pods on " + CNPG_PORT);
        }
    }

    /** A Service's DNS name: service, service.namespace, service.namespace.svc[.cluster.local]. */
    private static final Pattern SERVICE_HOST = Pattern
            .compile("([^.]+)(?:\\.([^.]+)(?:\\.svc(?:\\.cluster\\.local)?)?)?");

    /**
     * The namespace and Service a PostgreSQL URL ({@code postgresql://} or {@code jdbc:postgresql://}) names, after
     * checking its port and database.
     */
    private static String service(String url, String database, String readsideNamespace) {
        URI uri = URI.create(url.startsWith("jdbc:") ? url.substring("jdbc:".length()) : url);
        assertEquals("postgresql", uri.getScheme(), url);
        assertEquals(CNPG_PORT, uri.getPort() == -1 ? CNPG_PORT : uri.getPort(), "the Cluster's port: " + url);
        assertEquals("/" + database, uri.getPath(), "the Cluster's database: " + url);
        Matcher host = SERVICE_HOST.matcher(uri.getHost());
        assertTrue(host.matches(), "a Service of the Kubernetes cluster: " + url);
        return (host.group(2) == null ? readsideNamespace : host.group(2)) + "/" + host.group(1);
    }

    /** A container's variable as Kubernetes sets it: a literal value, or a key of a Secret. */
    record EnvValue(String literal, String secret, String key) {
        static EnvValue of(String literal) {
            return new EnvValue(literal, null, null);
        }

        static EnvValue fromSecret(String secret, String key) {
            return new EnvValue(null, secret, key);
        }
    }

    /**
     * The container's environment as Kubernetes builds it from the rendered objects: {@code envFrom} in order (a later
     * source wins), then {@code env}, which wins over all of them. A Secret created out of band has unknown keys.
     */
    private static Map<String, EnvValue> environment(Container container, List<JsonNode> objects) {
        Map<String, EnvValue> env = new LinkedHashMap<>();
        for (EnvFromSource from : container.getEnvFrom()) {
            String prefix = from.getPrefix() == null ? "" : from.getPrefix();
            if (from.getConfigMapRef() != null) {
                configMap(objects, from.getConfigMapRef().getName())
                        .forEach((k, v) -> env.put(prefix + k, EnvValue.of(v)));
            } else if (from.getSecretRef() != null) {
                String secret = from.getSecretRef().getName();
                ofKind(objects, "Secret").stream()
                        .filter(o -> o.path("metadata").path("name").asText().equals(secret))
                        .forEach(o -> {
                            o.path("data").fieldNames().forEachRemaining(k -> env.put(prefix + k,
                                    EnvValue.fromSecret(secret, k)));
                            o.path("stringData").fieldNames().forEachRemaining(k -> env.put(prefix + k,
                                    EnvValue.fromSecret(secret, k)));
                        });
            }
        }
        for (EnvVar variable : container.getEnv()) {
            if (variable.getValueFrom() == null) {
                env.put(variable.getName(), EnvValue.of(variable.getValue()));
            } else if (variable.getValueFrom().getSecretKeyRef() != null) {
                env.put(variable.getName(), EnvValue.fromSecret(variable.getValueFrom().getSecretKeyRef().getName(),
                        variable.getValueFrom().getSecretKeyRef().getKey()));
            } else if (variable.getValueFrom().getConfigMapKeyRef() != null) {
                env.put(variable.getName(), EnvValue.of(configMap(objects,
                        variable.getValueFrom().getConfigMapKeyRef().getName())
                        .get(variable.getValueFrom().getConfigMapKeyRef().getKey())));
            } else {
                env.put(variable.getName(), EnvValue.of(null)); // from the pod's fields or resources
            }
        }
        return env;
    }

    private static Map<String, String> configMap(List<JsonNode> objects, String name) {
        return ofKind(objects, "ConfigMap").stream().filter(o -> o.path("metadata").path("name").asText().equals(name))
                .map(o -> read(o, ConfigMap.class).getData()).findFirst()
                .orElseThrow(() -> new AssertionError("ConfigMap " + name + " is rendered"));
    }

    /** The literal value of an application key's environment variable. */
    private static String literal(Map<String, EnvValue> env, String key) {
        EnvValue value = env.get(envName(key));
        assertTrue(value != null && value.literal() != null && !value.literal().isBlank(),
                envName(key) + " (" + key + ") is set: " + value);
        return value.literal();
    }

    /** The environment variable of a configuration key, as MicroProfile Config maps it. */
    static String envName(String key) {
        return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(java.util.Locale.ROOT);
    }

    /** Every Secret the pods refer to: envFrom, env and volumes of every container. */
    private static Set<String> secretsReferenced(Deployment deployment) {
        Set<String> secrets = new TreeSet<>();
        var pod = deployment.getSpec().getTemplate().getSpec();
        for (Container container : Stream.concat(pod.getContainers().stream(),
                pod.getInitContainers().stream()).toList()) {
            container.getEnvFrom().stream().filter(from -> from.getSecretRef() != null)
                    .forEach(from -> secrets.add(from.getSecretRef().getName()));
            container.getEnv().stream()
                    .filter(variable -> variable.getValueFrom() != null
                            && variable.getValueFrom().getSecretKeyRef() != null)
                    .forEach(variable -> secrets.add(variable.getValueFrom().getSecretKeyRef().getName()));
        }
        for (Volume volume : pod.getVolumes()) {
            if (volume.getSecret() != null) {
                secrets.add(volume.getSecret().getSecretName());
            }
        }
        return secrets;
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
