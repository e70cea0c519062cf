package io.readside;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/**
 * {@code ./mvnw test} runs the parts (the {@code *PartSuite} classes, pom.xml) side by side: together they must run
 * every test class surefire's default includes would, and none twice. The parts and the test classes are read from
 * the compiled test classes, the patterns from the parts' own annotations.
 */
class EveryTestClassRunsInExactlyOnePartTest {

    private static final Path TEST_CLASSES = Path.of("target", "test-classes");

    @Test
    void everyTestClassIsInExactlyOnePartAndNoPartIsEmpty() throws Exception {
        Map<String, Pattern> parts = parts();
        assertTrue(parts.size() >= 2, "parts found: " + parts.keySet());
        Set<String> classes = classesNamed("Test");
        assertTrue(classes.size() > 50, "test classes found: " + classes.size());
        Map<String, Integer> perPart = new TreeMap<>();
        for (String name : classes) {
            assertTrue(name.startsWith("io.readside."), name + " is outside io.readside, where the parts look");
            List<String> in = new ArrayList<>();
            parts.forEach((part, pattern) -> {
                if (pattern.matcher(name).matches()) {
                    in.add(part);
                }
            });
            assertEquals(1, in.size(), name + " is in " + in);
            perPart.merge(in.get(0), 1, Integer::sum);
        }
        assertEquals(parts.keySet(), perPart.keySet(), "test classes per part: " + perPart);
    }

    /** every {@code *PartSuite}: a suite over all of io.readside with one pattern (the whole name must match it) */
    private static Map<String, Pattern> parts() throws Exception {
        Map<String, Pattern> parts = new TreeMap<>();
        for (String name : classesNamed("PartSuite")) {
            Class<?> part = Class.forName(name);
            assertTrue(part.isAnnotationPresent(Suite.class), name);
            assertEquals(List.of("io.readside"), List.of(part.getAnnotation(SelectPackages.class).value()), name);
            String[] patterns = part.getAnnotation(IncludeClassNamePatterns.class).value();
            assertEquals(1, patterns.length, name);
            parts.put(part.getSimpleName(), Pattern.compile(patterns[0]));
        }
        return parts;
    }

    /** the top-level classes whose names end so (surefire's default includes: *Test) */
    private static Set<String> classesNamed(String suffix) throws IOException {
        try (Stream<Path> files = Files.walk(TEST_CLASSES)) {
            return files.map(file -> TEST_CLASSES.relativize(file).toString())
                    .filter(name -> name.endsWith(suffix + ".class") && !name.contains("$"))
                    .map(name -> name.substring(0, name.length() - ".class".length()).replace('/', '.'))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
    }
}
