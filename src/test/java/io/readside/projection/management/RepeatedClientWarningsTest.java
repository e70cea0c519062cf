package io.readside.projection.management;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;

import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;

/**
 * A deleted topic's consumer repeats UNKNOWN_TOPIC_OR_PARTITION at every metadata refresh: each such warning is
 * logged once a minute, with the number held back, and nothing else is held back. Pure logic (a clock of its own).
 */
class RepeatedClientWarningsTest {

    private static final String NETWORK_CLIENT = "org.apache.kafka.clients.NetworkClient";

    private final AtomicLong now = new AtomicLong();
    private final RepeatedClientWarnings filter = new RepeatedClientWarnings(now::get);

    @Test
    void aMissingTopicsRepeatedWarningIsLoggedOnceAMinuteWithTheNumberHeldBack() {
        int logged = 0;
        for (int correlation = 1; correlation <= 14_000; correlation++) {
            now.addAndGet(1_000_000); // 14,000 in 14 s
            logged += filter.isLoggable(unknownTopic("user-events", correlation)) ? 1 : 0;
        }
        assertEquals(1, logged, "the first of 14,000 in 14 s");

        now.addAndGet(RepeatedClientWarnings.WINDOW.toNanos());
        ExtLogRecord next = unknownTopic("user-events", 14_001);
        assertTrue(filter.isLoggable(next));
        assertTrue(next.getFormattedMessage().endsWith("(13999 more like it in the last 60 s were not logged)"),
                next.getFormattedMessage());
        assertTrue(next.getFormattedMessage().contains("{user-events=UNKNOWN_TOPIC_OR_PARTITION}"));
    }

    @Test
    void anotherTopicAnotherLoggerAndEveryOtherLevelOrCategoryAreNotHeldBack() {
        assertTrue(filter.isLoggable(unknownTopic("user-events", 1)));
        assertFalse(filter.isLoggable(unknownTopic("user-events", 2)));
        assertTrue(filter.isLoggable(unknownTopic("orders", 3)), "another topic is another warning");
        ExtLogRecord error = unknownTopic("user-events", 4);
        error.setLevel(Level.SEVERE);
        assertTrue(filter.isLoggable(error), "errors always pass");
        ExtLogRecord ours = new ExtLogRecord(Level.WARNING, "the same text 5", ExtLogRecord.FormatStyle.NO_FORMAT,
                getClass().getName());
        ours.setLoggerName("io.readside.projection.PositionGaps");
        assertTrue(filter.isLoggable(ours));
        assertTrue(filter.isLoggable(ours), "Readside's own warnings are never held back");
    }

    @Test
    void aFullTableMakesRoomFromKindsQuietForAMinuteSoANewRepeatedWarningIsStillHeldBack() {
        for (int kind = 0; kind < RepeatedClientWarnings.KINDS; kind++) {
            assertTrue(filter.isLoggable(unknownTopic("topic-" + kindName(kind), 1)));
            assertFalse(filter.isLoggable(unknownTopic("topic-" + kindName(kind), 2)), "each held back once");
        }
        now.addAndGet(RepeatedClientWarnings.WINDOW.toNanos()); // a day's run later: those kinds went quiet
        assertTrue(filter.isLoggable(unknownTopic("deleted-today", 1)));
        for (int correlation = 2; correlation <= 100; correlation++) {
            assertFalse(filter.isLoggable(unknownTopic("deleted-today", correlation)),
                    "a kind new after the table filled is held back like any other");
        }
    }

    @Test
    void aFullTableOfKindsStillRepeatingIsSweptAtMostOnceASecondNotForEveryNewKind() {
        for (int kind = 0; kind < RepeatedClientWarnings.KINDS; kind++) {
            filter.isLoggable(unknownTopic("topic-" + kindName(kind), 1));
        }
        for (int kind = 0; kind < 2_000; kind++) { // all at one instant: none of the known kinds is quiet
            assertTrue(filter.isLoggable(unknownTopic("newer-" + kindName(kind), 1)), "a full table lets it pass");
        }
        assertEquals(1, filter.sweeps(), "2,000 new kinds against a full table of kinds seen now: one sweep");
        now.addAndGet(RepeatedClientWarnings.SWEEP_EVERY.toNanos());
        filter.isLoggable(unknownTopic("newest", 1));
        assertEquals(2, filter.sweeps(), "the next sweep once a sweep interval has passed");
    }

    @Test
    void aKindStillRepeatingIsNotEvictedSoItsCountIsSaid() {
        assertTrue(filter.isLoggable(unknownTopic("still-deleted", 1)));
        now.addAndGet(RepeatedClientWarnings.WINDOW.toNanos() - 1_000_000); // 59.999 s later, held back 50 times
        for (int correlation = 2; correlation <= 51; correlation++) {
            assertFalse(filter.isLoggable(unknownTopic("still-deleted", correlation)));
        }
        for (int kind = 1; kind < RepeatedClientWarnings.KINDS; kind++) { // the table fills
            filter.isLoggable(unknownTopic("topic-" + kindName(kind), 1));
        }
        now.addAndGet(1_000_000); // a window after it passed, a moment after it was last seen
        filter.isLoggable(unknownTopic("new-kind", 1));
        ExtLogRecord next = unknownTopic("still-deleted", 52);
        assertTrue(filter.isLoggable(next));
        assertTrue(next.getFormattedMessage().endsWith("(50 more like it in the last 60 s were not logged)"),
                next.getFormattedMessage());
    }

    /** Letters only: numbers are not part of a warning's kind. */
    private static String kindName(int kind) {
        StringBuilder name = new StringBuilder();
        for (int rest = kind; rest > 0 || name.length() == 0; rest /= 26) {
            name.append((char) ('a' + rest % 26));
        }
        return name.toString();
    }

    private static ExtLogRecord unknownTopic(String topic, int correlation) {
        ExtLogRecord record = new ExtLogRecord(Level.WARNING, "[Consumer clientId=kafka-consumer-" + topic
                + ", groupId=readside] The metadata response from the cluster reported a recoverable issue with "
                + "correlation id " + correlation + " : {" + topic + "=UNKNOWN_TOPIC_OR_PARTITION}",
                ExtLogRecord.FormatStyle.NO_FORMAT, RepeatedClientWarningsTest.class.getName());
        record.setLoggerName(NETWORK_CLIENT);
        return record;
    }
}
