package io.readside.projection.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/** When a rebuild that retention has left short of history may start (pure: the counts come from RebuildHistoryLossTest). */
class RetainedHistoryTest {

    private static final Map<Integer, Long> STARTS = Map.of(0, 7L, 1, 0L);

    @Test
    void nothingLostStartsWithoutAsking() {
        assertEquals(Optional.empty(), RetainedHistory.refusal("orders", "revenue", "orders", Optional.of("orders"), 0,
                STARTS, false));
    }

    @Test
    void aWholeReadModelStartsOnceTheLossIsAccepted() {
        String refused = RetainedHistory.refusal("user-events", "users", "users", Optional.empty(), 2, STARTS, false)
                .orElseThrow();
        assertEquals("topic user-events no longer holds the versions of 2 rows of users (log start offsets {0=7, 1=0}):"
                + " the rebuilt tables would lack them. Repeat with accept-history-loss=true to rebuild anyway",
                refused);
        assertEquals(Optional.empty(), RetainedHistory.refusal("user-events", "users", "users", Optional.empty(), 2,
                STARTS, true));
    }

    @Test
    void aReadModelRebuiltAloneNeverAcceptsTheLossAndNamesWhatToRebuildInstead() {
        for (boolean accept : new boolean[] { false, true }) {
            String refused = RetainedHistory.refusal("orders", "revenue", "orders", Optional.of("orders"), 3, STARTS,
                    accept).orElseThrow();
            assertTrue(refused.endsWith("revenue rebuilt alone would lack them while orders keeps them. Rebuild orders "
                    + "instead (with every read model derived from it), accepting the loss there"), refused);
        }
    }
}
