package io.readside;

import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/**
 * One of the three parts of {@code ./mvnw test}, which surefire runs side by side, each in a JVM of its own
 * (pom.xml): one part's waits (a rebalance, an outage, a timer) are the others' working time. Each part is one JUnit
 * run, in which Quarkus orders the classes by test profile and starts each profile's application once. This part is
 * the projection engine's tests but those of its reads, consistency waits and outbox
 * ({@link EngineReadsAndOutboxPartSuite}); every class outside the engine is in {@link FeaturesPartSuite}, so that a
 * new read model's tests need no edit here. {@link EveryTestClassRunsInExactlyOnePartTest} checks that the parts'
 * patterns split the test classes; the split is balanced on measured times (docs/testing.md).
 */
@Suite
@SelectPackages("io.readside")
@IncludeClassNamePatterns(EnginePartSuite.TEST_CLASSES)
public class EnginePartSuite {

    /** the projection engine's package and everything under it */
    static final String ENGINE = "io\\.readside\\.projection\\.";
    /** the part of the engine's packages that {@link EngineReadsAndOutboxPartSuite} runs */
    static final String READS_AND_OUTBOX = ENGINE + "(query|consistency|outbox)\\.";
    /** the whole fully qualified name must match (*IT is failsafe's) */
    static final String TEST_CLASSES = "(?!" + READS_AND_OUTBOX + ")" + ENGINE + ".*Test";
}
