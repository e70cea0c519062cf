package io.readside;

import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/**
 * One of the four parts of {@code ./mvnw test}, which surefire runs side by side, each in a JVM of its own
 * (pom.xml): one part's waits (a rebalance, an outage, a timer) are the others' working time. Each part is one JUnit
 * run, in which Quarkus orders the classes by test profile and starts each profile's application once. The parts
 * are cut by package, balanced on measured times (docs/testing.md):
 * <ul>
 * <li>this one, the projection engine's tests but those the next two take;</li>
 * <li>{@link EngineReadsPartSuite}: the engine's reads, consistency waits and lag;</li>
 * <li>{@link OutboxReplayAndCommandsPartSuite}: the engine's outbox and replay, and the commands;</li>
 * <li>{@link FeaturesPartSuite}: every other class, so that a new read model's tests need no edit here.</li>
 * </ul>
 * {@link EveryTestClassRunsInExactlyOnePartTest} checks that the parts' patterns take every test class once.
 */
@Suite
@SelectPackages("io.readside")
@IncludeClassNamePatterns(EnginePartSuite.TEST_CLASSES)
public class EnginePartSuite {

    /** the projection engine's package and everything under it */
    static final String ENGINE = "io\\.readside\\.projection\\.";
    /** {@link EngineReadsPartSuite}'s packages */
    static final String READS = ENGINE + "(query|consistency|lag)\\.";
    /** {@link OutboxReplayAndCommandsPartSuite}'s packages */
    static final String OUTBOX_REPLAY_AND_COMMANDS = "io\\.readside\\.(projection\\.(outbox|replay)|commands)\\.";
    /** the whole fully qualified name must match (*IT is failsafe's) */
    static final String TEST_CLASSES = "(?!" + READS + "|" + OUTBOX_REPLAY_AND_COMMANDS + ")" + ENGINE + ".*Test";
}
