package io.readside.testing;

import java.time.Duration;

import org.awaitility.Awaitility;

import io.quarkus.test.junit.callback.QuarkusTestBeforeEachCallback;
import io.quarkus.test.junit.callback.QuarkusTestMethodContext;

/**
 * Every {@code @QuarkusTest}'s waits ask their condition at once and then every 50 ms, not first after 100 ms and then
 * every 100 ms (Awaitility's defaults): a test that waits for each of 100 records in turn waited 10 s for nothing.
 * The bounds ({@code atMost}) and the conditions are the tests' own; only how soon they are seen changes.
 */
public class PromptPolls implements QuarkusTestBeforeEachCallback {

    static final Duration INTERVAL = Duration.ofMillis(50);

    @Override
    public void beforeEach(QuarkusTestMethodContext context) {
        Awaitility.setDefaultPollDelay(Duration.ZERO);
        Awaitility.setDefaultPollInterval(INTERVAL);
    }
}
