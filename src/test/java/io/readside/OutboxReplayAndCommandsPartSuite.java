package io.readside;

import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/** A part of {@code ./mvnw test} (see {@link EnginePartSuite}): the engine's outbox and replay, and the commands. */
@Suite
@SelectPackages("io.readside")
@IncludeClassNamePatterns(OutboxReplayAndCommandsPartSuite.TEST_CLASSES)
public class OutboxReplayAndCommandsPartSuite {

    static final String TEST_CLASSES = EnginePartSuite.OUTBOX_REPLAY_AND_COMMANDS + ".*Test";
}
