package io.readside.projection.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/** The bounds of a re-send's wait for the relay's lock (pure logic): a wait out of them stops the start. */
class ParkedOutputsTest {

    @Test
    void aReSendsWaitForTheRelayLockOutsideItsBoundsStopsTheStart() {
        assertEquals(Duration.ofSeconds(20), ParkedOutputs.checkedWait(Duration.ofSeconds(20)));
        assertEquals(Duration.ofMillis(100), ParkedOutputs.checkedWait(Duration.ofMillis(100)));
        assertEquals(Duration.ofSeconds(50), ParkedOutputs.checkedWait(Duration.ofSeconds(50)));
        assertThrows(IllegalArgumentException.class,
                () -> ParkedOutputs.checkedWait(Duration.ofSeconds(50).plusMillis(1)));
        assertThrows(IllegalArgumentException.class, () -> ParkedOutputs.checkedWait(Duration.ofMillis(99)));
        assertThrows(IllegalArgumentException.class, () -> ParkedOutputs.checkedWait(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> ParkedOutputs.checkedWait(Duration.ofSeconds(-20)));
    }
}
