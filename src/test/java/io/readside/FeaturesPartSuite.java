package io.readside;

import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/**
 * A part of {@code ./mvnw test} (see {@link EnginePartSuite}): every test class outside the projection engine (the
 * read models, commands, HTTP, security, contracts, deployment), a new package's too.
 */
@Suite
@SelectPackages("io.readside")
@IncludeClassNamePatterns(FeaturesPartSuite.TEST_CLASSES)
public class FeaturesPartSuite {

    static final String TEST_CLASSES = "(?!" + EnginePartSuite.ENGINE + ").*Test";
}
