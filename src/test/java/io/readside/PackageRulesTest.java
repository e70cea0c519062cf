package io.readside;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
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

    @Test
    void projectionEngineDependsOnNoFeature() {
        noClasses().that().resideInAPackage("io.readside.projection..")
                .should().dependOnClassesThat().resideInAnyPackage("io.readside.orders..", "io.readside.revenue..",
                        "io.readside.users..", "io.readside.commands..")
                .because("the projection engine is shared by every read model and knows none of them")
                .check(main);
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
