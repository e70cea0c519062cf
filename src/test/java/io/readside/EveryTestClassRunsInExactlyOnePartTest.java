package io.readside;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
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
import org.junit.platform.commons.annotation.Testable;
import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/**
 * {@code ./mvnw test} runs the parts (the {@code *PartSuite} classes, pom.xml) side by side: together they must run
 * every class that holds a JUnit test (failsafe's {@code *IT} aside), and none twice. The parts and the test classes
 * are read from the compiled test classes, the patterns from the parts' own annotations; a class with tests whose
 * name no part takes ({@code FooTests}, say) fails here instead of never running.
 */
class EveryTestClassRunsInExactlyOnePartTest {

    private static final Path TEST_CLASSES = Path.of("target", "test-classes");

    @Test
    void everyTestClassIsInExactlyOnePartAndNoPartIsEmpty() throws Exception {
        Map<String, Pattern> parts = parts();
        assertTrue(parts.size() >= 2, "parts found: " + parts.keySet());
        Set<String> classes = new TreeSet<>();
        for (String name : classesNamed("")) {
            if (!name.endsWith("IT") && holdsTests(Class.forName(name, false, getClass().getClassLoader()))) {
                classes.add(name);
            }
        }
        assertTrue(classes.size() > 50, "classes with tests found: " + classes.size());
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

    /** a method (its own or inherited) annotated with a JUnit test annotation: @Test, @ParameterizedTest, ... */
    private static boolean holdsTests(Class<?> type) {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Method method : c.getDeclaredMethods()) {
                for (Annotation annotation : method.getAnnotations()) {
                    if (testable(annotation.annotationType(), 0)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** @Test carries @Testable; @ParameterizedTest carries @TestTemplate, which carries it */
    private static boolean testable(Class<? extends Annotation> type, int depth) {
        if (type.isAnnotationPresent(Testable.class)) {
            return true;
        }
        return depth < 3 && Stream.of(type.getAnnotations()).map(Annotation::annotationType)
                .filter(meta -> !meta.getName().startsWith("java.lang.annotation."))
                .anyMatch(meta -> testable(meta, depth + 1));
    }

    /** the top-level classes whose names end so */
    private static Set<String> classesNamed(String suffix) throws IOException {
        try (Stream<Path> files = Files.walk(TEST_CLASSES)) {
            return files.map(file -> TEST_CLASSES.relativize(file).toString())
                    .filter(name -> name.endsWith(suffix + ".class") && !name.contains("$"))
                    .map(name -> name.substring(0, name.length() - ".class".length()).replace('/', '.'))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
    }
}
