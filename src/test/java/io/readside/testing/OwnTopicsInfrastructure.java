package io.readside.testing;

/**
 * As {@link RealInfrastructure}, with a broker and a database of its own: for tests that change a topic itself
 * (delete its records, recreate it), which the other tests' topics must not see.
 */
public class OwnTopicsInfrastructure extends RealInfrastructure {
}
