package io.readside.projection.outbox;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The relay is stopped by an interrupt: closing its publisher on that thread goes through (giving records in flight
 * their time) instead of dying half-way with Kafka's InterruptException, which left the relay's session and its lock
 * to the process exit; the thread stays interrupted. (No broker needed: producers connect lazily.)
 */
class OutboxPublisherTest {

    @Test
    void closingOnAnInterruptedThreadGoesThroughAndKeepsTheInterrupt() {
        OutboxPublisher publisher = new OutboxPublisher("localhost:9", new SimpleMeterRegistry(), null, 100, 1 << 20,
                () -> false, Optional.empty());
        Thread.currentThread().interrupt();
        try {
            assertDoesNotThrow(publisher::close);
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept for the caller");
        } finally {
            Thread.interrupted();
        }
    }
}
