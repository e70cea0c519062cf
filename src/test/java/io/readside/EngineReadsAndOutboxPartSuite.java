package io.readside;

import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/** A part of {@code ./mvnw test} (see {@link EnginePartSuite}): the engine's reads, consistency waits and outbox. */
@Suite
@SelectPackages("io.readside")
@IncludeClassNamePatterns(EngineReadsAndOutboxPartSuite.TEST_CLASSES)
public class EngineReadsAndOutboxPartSuite {

    static final String TEST_CLASSES = EnginePartSuite.READS_AND_OUTBOX + ".*Test";
}
