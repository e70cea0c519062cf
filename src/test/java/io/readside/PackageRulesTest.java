package io.readside;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * The package rules of issue 16, on the main classes only (no Quarkus, no Kafka, no database): the feature packages
 * ({@code io.readside.<feature>} and everything under it) import each other without cycles; the projection engine
 * depends on no feature; and no source file under {@code src/main/java} is over {@value #MAX_LINES} lines.
 *
 * <p>The ArchUnit rules read the class files. A compile-time constant ({@code static final} String or primitive) is
 * copied by javac into the class that uses it, so a dependency made only of constants (for instance
 * {@code @ConsistentReads(OrdersProjector.CHANNEL)}) leaves no trace there; {@link #featurePackagesImportNoCycle}
 * reads the {@code import} lines of the sources as well, and sees those too.
 */
class PackageRulesTest {

    static final int MAX_LINES = 300;
    private static final Path MAIN_SOURCES = Path.of("src", "main", "java");

    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.readside");
    }

    @Test
    void featurePackagesHaveNoImportCycles() {
        slices().matching("io.readside.(*)..").should().beFreeOfCycles().check(main);
    }

    /**
     * What every feature may use: the engine and the shared HTTP, security and value types. Every other package under
     * {@code io.readside} is a feature, found in the classes (a new read model's folder is one from its first class).
     */
    static final Set<String> SHARED = Set.of("projection", "web", "security", "values");

    @Test
    void projectionEngineDependsOnNoFeature() {
        String[] features = features().stream().map(feature -> "io.readside." + feature + "..")
                .toArray(String[]::new);
        assertTrue(features.length >= 4, "features found: " + features().toString());
        noClasses().that().resideInAPackage("io.readside.projection..")
                .should().dependOnClassesThat().resideInAnyPackage(features)
                .because("the projection engine is shared by every read model and knows none of them")
                .check(main);
    }

    /** The top-level packages under io.readside that hold main classes, the shared ones aside. */
    static Set<String> features() {
        Set<String> features = new TreeSet<>();
        main.forEach(javaClass -> {
            String[] parts = javaClass.getPackageName().split("\\.");
            if (parts.length > 2 && parts[0].equals("io") && parts[1].equals("readside") && !SHARED.contains(parts[2])) {
                features.add(parts[2]);
            }
        });
        return features;
    }

    @Test
    void featurePackagesImportNoCycle() throws IOException {
        Map<String, Map<String, List<String>>> imports = featureImports();
        List<String> cycles = new ArrayList<>();
        for (Set<String> cycle : stronglyConnected(imports)) {
            StringBuilder why = new StringBuilder("features " + cycle + " import each other:");
            for (String from : cycle) {
                imports.get(from).forEach((to, lines) -> {
                    if (cycle.contains(to)) {
                        why.append("\n    ").append(from).append(" -> ").append(to).append(" (")
                                .append(lines.size()).append(lines.size() == 1 ? " import): " : " imports): ")
                                .append(String.join(", ", lines.subList(0, Math.min(3, lines.size()))))
                                .append(lines.size() > 3 ? ", ..." : "");
                    }
                });
            }
            cycles.add(why.toString());
        }
        assertTrue(cycles.isEmpty(), "feature packages in an import cycle (" + cycles.size() + "):\n  "
                + String.join("\n  ", cycles));
    }

    private static final Pattern FEATURE_IMPORT = Pattern.compile(
            "^import\\s+(?:static\\s+)?io\\.readside\\.([a-z0-9_]+)\\.([\\w.]+)\\s*;");

    /** feature -> feature it imports from -> "File.java: imported.Name", from every main source file's imports. */
    private static Map<String, Map<String, List<String>>> featureImports() throws IOException {
        Path root = MAIN_SOURCES.resolve(Path.of("io", "readside"));
        Map<String, Map<String, List<String>>> imports = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                Path relative = root.relativize(file);
                if (relative.getNameCount() < 2) {
                    continue; // io.readside itself: no feature
                }
                String feature = relative.getName(0).toString();
                Map<String, List<String>> from = imports.computeIfAbsent(feature, f -> new TreeMap<>());
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    Matcher m = FEATURE_IMPORT.matcher(line.strip());
                    if (m.find() && !m.group(1).equals(feature)) {
                        from.computeIfAbsent(m.group(1), f -> new ArrayList<>())
                                .add(relative + " imports " + m.group(1) + "." + m.group(2));
                    }
                }
            }
        }
        return imports;
    }

    /** The strongly connected components of more than one feature (Tarjan): each is at least one cycle. */
    private static List<Set<String>> stronglyConnected(Map<String, Map<String, List<String>>> graph) {
        List<Set<String>> components = new ArrayList<>();
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        for (String node : graph.keySet()) {
            if (!index.containsKey(node)) {
                connect(node, graph, index, low, stack, components);
            }
        }
        return components;
    }

    private static void connect(String node, Map<String, Map<String, List<String>>> graph, Map<String, Integer> index,
            Map<String, Integer> low, Deque<String> stack, List<Set<String>> components) {
        index.put(node, index.size());
        low.put(node, index.get(node));
        stack.push(node);
        for (String next : graph.getOrDefault(node, Map.of()).keySet()) {
            if (!index.containsKey(next)) {
                connect(next, graph, index, low, stack, components);
                low.put(node, Math.min(low.get(node), low.get(next)));
            } else if (stack.contains(next)) {
                low.put(node, Math.min(low.get(node), index.get(next)));
            }
        }
        if (low.get(node).equals(index.get(node))) {
            Set<String> component = new TreeSet<>();
            String member;
            do {
                member = stack.pop();
                component.add(member);
            } while (!member.equals(node));
            if (component.size() > 1) {
                components.add(component);
            }
        }
    }

    @Test
    void noMainClassIsOverThreeHundredLines() throws IOException {
        List<String> offenders;
        try (Stream<Path> files = Files.walk(MAIN_SOURCES)) {
            offenders = files.filter(file -> file.toString().endsWith(".java"))
                    .map(file -> new SourceFile(MAIN_SOURCES.relativize(file), lines(file)))
                    .filter(file -> file.lines() > MAX_LINES)
                    .sorted(Comparator.comparingLong(SourceFile::lines).reversed())
                    .map(file -> file.path() + ": " + file.lines() + " lines")
                    .toList();
        }
        assertTrue(offenders.isEmpty(), offenders.size() + " source files under " + MAIN_SOURCES + " are over "
                + MAX_LINES + " lines:\n  " + String.join("\n  ", offenders));
    }

    private record SourceFile(Path path, long lines) {
    }

    private static long lines(Path file) {
        try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
            return lines.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
