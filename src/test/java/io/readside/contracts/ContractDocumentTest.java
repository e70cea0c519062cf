package io.readside.contracts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;

import io.readside.projection.DeadLetters;
import io.readside.projection.InvalidRecordException;
import io.readside.projection.replay.Redrive;
import io.readside.testing.Contracts;
import io.readside.web.ContractsResource;

/**
 * The AsyncAPI document ({@code src/main/resources/asyncapi.yaml}) held against the application's channel
 * configuration ({@code application.properties}), as DeploymentManifestsTest holds the manifests: every topic it
 * reads or writes is a channel, with the consumer group it is read by; and the payload schemas it refers to are
 * valid 2020-12 schemas whose examples, and every example of README.md and docs/*.md, are valid.
 */
class ContractDocumentTest {

    private static final Path RESOURCES = Path.of("src", "main", "resources");
    private static final Path SCHEMAS = RESOURCES.resolve("schemas");
    private static final Pattern TOPIC_KEY = Pattern.compile("mp\\.messaging\\.(incoming|outgoing)\\.([^.]+)\\.topic");

    @Test
    void everyTopicTheApplicationReadsOrWritesIsAChannelWithItsConsumerGroup() throws IOException {
        Properties app = applicationProperties();
        JsonNode doc = asyncApi();
        Map<String, String> addressOfChannel = new HashMap<>();
        doc.get("channels").properties().forEach(c -> addressOfChannel.put(c.getKey(), c.getValue().get("address").asText()));

        Map<String, String> groupOfInput = new TreeMap<>();
        Set<String> outputs = new TreeSet<>();
        for (String key : app.stringPropertyNames()) {
            Matcher m = TOPIC_KEY.matcher(key);
            if (!m.matches() || m.group(2).equals(DeadLetters.CHANNEL)) { // dead letters: the topic is set per record
                continue;
            }
            String topic = app.getProperty(key);
            if (m.group(1).equals("incoming")) {
                groupOfInput.put(topic, app.getProperty("mp.messaging.incoming." + m.group(2) + ".group.id"));
            } else {
                outputs.add(topic);
            }
        }
        // what goes through the outbox: every topic of readside.outputs.topics (its ${...} references resolved)
        for (String entry : app.getProperty("readside.outputs.topics").split(",")) {
            String name = entry.strip();
            Matcher reference = Pattern.compile("\\$\\{(.+)}").matcher(name);
            outputs.add(reference.matches() ? app.getProperty(reference.group(1)) : name);
        }
        groupOfInput.keySet().forEach(topic -> outputs.add(topic + DeadLetters.SUFFIX));
        assertEquals(Set.of("user-events", "orders", "payments"), groupOfInput.keySet());

        Set<String> expected = new TreeSet<>(groupOfInput.keySet());
        expected.addAll(outputs);
        assertEquals(expected, new TreeSet<>(addressOfChannel.values()), "the document's channels are the app's topics");

        Map<String, List<String>> receivers = new TreeMap<>();
        Set<String> sent = new TreeSet<>();
        for (JsonNode operation : doc.get("operations")) {
            String channel = operation.get("channel").get("$ref").asText().replace("#/channels/", "");
            String address = addressOfChannel.get(channel);
            assertTrue(address != null, "an operation names channel " + channel);
            if (operation.get("action").asText().equals("receive")) {
                List<String> groups = new ArrayList<>();
                operation.at("/bindings/kafka/groupId/enum").forEach(g -> groups.add(g.asText()));
                receivers.put(address, groups);
            } else {
                assertEquals("send", operation.get("action").asText());
                sent.add(address);
            }
        }
        Map<String, List<String>> expectedReceivers = new TreeMap<>();
        groupOfInput.forEach((topic, group) -> expectedReceivers.put(topic, List.of(group)));
        assertEquals(expectedReceivers, receivers, "Readside receives exactly its input topics, in its groups");
        assertTrue(sent.containsAll(outputs), "a send operation for every topic Readside writes: " + outputs);
    }

    @Test
    void everyMessageNamesItsKeyAndASchemaFileAndEverySchemaFileIsUsed() throws IOException {
        JsonNode doc = asyncApi();
        Set<String> used = new TreeSet<>();
        doc.at("/components/messages").properties().forEach(m -> {
            JsonNode message = m.getValue();
            assertTrue(message.at("/bindings/kafka/key/description").isTextual(), m.getKey() + " says what its key is");
            String ref = message.at("/payload/schema/$ref").asText("");
            if (!ref.isEmpty()) {
                assertTrue(ref.startsWith("schemas/"), ref);
                assertTrue(Files.exists(RESOURCES.resolve(ref)), ref + " exists");
                used.add(ref.substring("schemas/".length()));
            }
        });
        doc.get("channels").properties().forEach(c -> {
            String address = c.getValue().get("address").asText();
            if (!address.endsWith(DeadLetters.SUFFIX)) {
                String first = c.getValue().get("messages").values().next().get("$ref").asText();
                JsonNode message = doc.at(first.substring(1));
                assertEquals("schemas/" + address + ".json", message.at("/payload/schema/$ref").asText(),
                        "channel " + address + " uses its topic's schema");
            }
        });
        try (Stream<Path> files = Files.list(SCHEMAS)) {
            Set<String> all = files.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
            assertEquals(all, new TreeSet<>(ContractsResource.SCHEMAS), "every schema file is served");
            all.remove("common.json"); // used by the others
            assertEquals(all, used, "every schema file is a message's payload");
            assertEquals(Contracts.TOPICS.stream().map(t -> t + ".json").collect(Collectors.toSet()),
                    all.stream().filter(f -> !f.equals("dead-letter-stub.json")).collect(Collectors.toSet()));
        }
    }

    @Test
    void theHeadersAreDocumented() throws IOException {
        JsonNode doc = asyncApi();
        JsonNode input = doc.at("/components/schemas/inputHeaders/properties");
        assertTrue(input.has(Redrive.REDRIVEN_FROM), "readside-redriven-from");
        assertTrue(input.has("traceparent"), "traceparent");
        doc.get("channels").properties().forEach(c -> {
            String address = c.getValue().get("address").asText();
            if (Set.of("user-events", "orders", "payments").contains(address)) {
                c.getValue().get("messages").forEach(ref -> assertEquals("#/components/schemas/inputHeaders",
                        doc.at(ref.get("$ref").asText().substring(1)).at("/headers/$ref").asText(), address));
            }
        });
        JsonNode fields = doc.at("/components/schemas/deadLetterHeaderFields/properties");
        assertTrue(fields.has(DeadLetters.KIND_HEADER) && fields.has(DeadLetters.ORIGINAL_HEADERS)
                && fields.has(DeadLetters.STUB_HEADER));
        Set<String> reasons = new TreeSet<>();
        fields.at("/dead-letter-reason/enum").forEach(r -> reasons.add(r.asText()));
        assertEquals(reasonsOfTheParsers(), reasons, "every reason a dead letter can carry");
    }

    @Test
    void everySchemaIsAValid2020_12SchemaAndItsExamplesAreValid() throws IOException {
        var metaSchema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(SchemaLocation.of("https://json-schema.org/draft/2020-12/schema"));
        try (Stream<Path> files = Files.list(SCHEMAS)) {
            for (Path file : files.toList()) {
                var json = Contracts.read(Files.readString(file));
                assertEquals("https://json-schema.org/draft/2020-12/schema", json.get("$schema").asString(), file.toString());
                assertEquals(List.of(), metaSchema.validate(json), file + " is a valid schema");
                String name = file.getFileName().toString();
                if (json.has("examples")) {
                    for (var example : json.get("examples")) {
                        assertEquals(List.of(), Contracts.problems(name, example), name + ": " + example);
                    }
                } else {
                    assertTrue(name.equals("common.json") || name.equals("dead-letter-stub.json"), name + " has examples");
                }
            }
        }
    }

    /**
     * Every JSON object of README.md and of docs/*.md (the event formats live in docs/events-and-contracts.md) that
     * is a topic's record, found by the topic it is shown for.
     */
    @Test
    void everyExampleOfTheDocumentationIsValidAgainstItsTopicsSchema() throws IOException {
        Map<String, List<String>> examples = ReadmeExamples.inDocumentation();
        assertTrue(examples.getOrDefault("user-events", List.of()).size() >= 3, "user-events examples: " + examples);
        for (String topic : Contracts.TOPICS) {
            assertFalse(examples.getOrDefault(topic, List.of()).isEmpty(),
                    "README.md or docs/*.md shows a record of " + topic);
        }
        examples.forEach((topic, values) -> values.forEach(value -> assertEquals(List.of(),
                Contracts.problems(topic, value), "documented example for " + topic + ": " + value)));
    }

    private static Set<String> reasonsOfTheParsers() {
        Set<String> reasons = new TreeSet<>();
        for (Field field : InvalidRecordException.class.getFields()) {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class) {
                try {
                    reasons.add((String) field.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return reasons;
    }

    static JsonNode asyncApi() throws IOException {
        return new YAMLMapper().readTree(RESOURCES.resolve("asyncapi.yaml").toFile());
    }

    private static Properties applicationProperties() throws IOException {
        Properties properties = new Properties();
        try (InputStream in = Files.newInputStream(RESOURCES.resolve("application.properties"))) {
            properties.load(in);
        }
        return properties;
    }

    /** Reads the JSON examples of README.md and docs/*.md; see {@link #byTopic}. */
    static final class ReadmeExamples {

        private static final Pattern INLINE = Pattern.compile("`(\\{[^`]*\\})`");
        private static final Pattern PRODUCER_TOPIC = Pattern.compile("-t ([a-z-]+)");
        private static final Pattern ROW_TOPIC = Pattern.compile("^\\| `([a-z-]+)` \\|");
        private static final Pattern HEADING_TOPIC = Pattern.compile("^#+ .*?`([a-z-]+)`");
        private static final ObjectMapper STRICT = new ObjectMapper()
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

        private ReadmeExamples() {
        }

        /** The examples of README.md and of every docs/*.md ({@link DocumentationLinksTest#documents}), merged. */
        static Map<String, List<String>> inDocumentation() throws IOException {
            Map<String, List<String>> examples = new TreeMap<>();
            for (Path document : DocumentationLinksTest.documents()) {
                byTopic(document).forEach((topic, values) ->
                        examples.computeIfAbsent(topic, t -> new ArrayList<>()).addAll(values));
            }
            return examples;
        }

        /**
         * The JSON objects (in a code span, or on a line of a code block) that parse as JSON, under the topic they
         * are shown for: a table row whose first cell is a topic, a producer command's {@code -t topic} on the same
         * or the next line, or else the closest heading that names a topic. Objects shown for no topic (HTTP
         * bodies) are left out. One file at a time: a heading's topic ends with its file.
         */
        static Map<String, List<String>> byTopic(Path readme) throws IOException {
            List<String> lines = Files.readAllLines(readme);
            Map<String, List<String>> examples = new TreeMap<>();
            String headingTopic = null;
            boolean inCode = false;
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (line.startsWith("```")) {
                    inCode = !inCode;
                    continue;
                }
                Matcher heading = HEADING_TOPIC.matcher(line);
                if (!inCode && line.startsWith("#")) {
                    headingTopic = heading.find() && Contracts.hasSchema(heading.group(1)) ? heading.group(1) : null;
                    continue;
                }
                List<String> candidates = new ArrayList<>();
                if (inCode) {
                    int start = line.indexOf('{');
                    int end = line.lastIndexOf('}');
                    if (start >= 0 && end > start) {
                        candidates.add(line.substring(start, end + 1));
                    }
                } else {
                    Matcher inline = INLINE.matcher(line);
                    while (inline.find()) {
                        candidates.add(inline.group(1));
                    }
                }
                String topic = topicOf(line, i + 1 < lines.size() ? lines.get(i + 1) : "", headingTopic);
                for (String candidate : candidates) {
                    if (topic != null && isJsonObject(candidate)) {
                        examples.computeIfAbsent(topic, t -> new ArrayList<>()).add(candidate);
                    }
                }
            }
            return examples;
        }

        private static String topicOf(String line, String next, String headingTopic) {
            for (String text : List.of(line, next)) {
                Matcher producer = PRODUCER_TOPIC.matcher(text);
                if (producer.find() && Contracts.hasSchema(producer.group(1))) {
                    return producer.group(1);
                }
            }
            Matcher row = ROW_TOPIC.matcher(line);
            if (row.find()) {
                return Contracts.hasSchema(row.group(1)) ? row.group(1) : null;
            }
            return headingTopic;
        }

        private static boolean isJsonObject(String text) {
            try {
                return STRICT.readTree(text).isObject();
            } catch (IOException e) {
                return false;
            }
        }
    }
}
