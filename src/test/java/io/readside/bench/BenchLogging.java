package io.readside.bench;

import java.util.logging.Level;

import org.jboss.logmanager.LogContext;

/**
 * The hand-written loops' logging at INFO, as the service's (Quarkus configures it). Unconfigured, the JBoss log
 * manager that slf4j reaches on the test classpath lets TRACE through to the formatting, and the Kafka producer
 * formats a TRACE message with {@code ProducerRecord.toString()} for every record it sends: about 6% of loop B's
 * samples in the first recording, for messages no handler writes.
 */
final class BenchLogging {

    private BenchLogging() {
    }

    static void info() {
        LogContext.getLogContext().getLogger("").setLevel(Level.INFO);
    }
}
