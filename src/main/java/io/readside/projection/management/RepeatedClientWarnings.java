package io.readside.projection.management;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.regex.Pattern;

import org.jboss.logmanager.ExtLogRecord;

import io.quarkus.logging.LoggingFilter;

/**
 * Kafka's clients repeat a warning at every retry: a consumer whose topic was deleted says
 * {@code UNKNOWN_TOPIC_OR_PARTITION} at each metadata refresh, thousands of lines a minute. This filter (on the console
 * handler: {@code quarkus.log.console.filter}) lets each such warning through once per {@link #WINDOW} per logger and
 * text (numbers aside: correlation ids, offsets), and says how many like it it held back when the next one passes.
 * Only the Kafka clients' warnings are held back; nothing else is touched. At most {@link #KINDS} kinds are tracked
 * (a bounded table, never a growing one): a full table makes room from the kinds not seen for a window, swept at
 * most once per {@link #SWEEP_EVERY}; while it stays full, a new kind passes as it comes.
 */
@LoggingFilter(name = RepeatedClientWarnings.NAME)
public final class RepeatedClientWarnings implements Filter {

    public static final String NAME = "readside-repeated-client-warnings";
    static final Duration WINDOW = Duration.ofMinutes(1);
    static final int KINDS = 1_000;
    /** A full table is swept for quiet kinds at most this often, not for every new kind. */
    static final Duration SWEEP_EVERY = Duration.ofSeconds(1);
    private static final String CLIENTS = "org.apache.kafka.clients";
    private static final Pattern NUMBERS = Pattern.compile("\\d+");

    private final Map<String, Kind> kinds = new ConcurrentHashMap<>();
    private final LongSupplier nanoTime;
    private final AtomicLong sweptAt = new AtomicLong();
    private final AtomicLong sweeps = new AtomicLong();

    /** A warning's text: when it last passed, when it last came, and how many like it were held back since. */
    private static final class Kind {
        long passedAt;
        long seenAt;
        long heldBack;
    }

    public RepeatedClientWarnings() {
        this(System::nanoTime);
    }

    RepeatedClientWarnings(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    @Override
    public boolean isLoggable(LogRecord record) {
        String logger = record.getLoggerName();
        if (logger == null || !logger.startsWith(CLIENTS) || record.getLevel().intValue() != Level.WARNING.intValue()) {
            return true;
        }
        String text = record instanceof ExtLogRecord ext ? ext.getFormattedMessage() : record.getMessage();
        String key = logger + ' ' + NUMBERS.matcher(String.valueOf(text)).replaceAll("#");
        long now = nanoTime.getAsLong();
        if (kinds.size() >= KINDS && !kinds.containsKey(key)) {
            // room from the kinds not seen for a window (the count one held back is then not said: no line like it
            // came to carry it); still full, this one passes as it comes
            long swept = sweptAt.get();
            if ((sweeps.get() == 0 || now - swept >= SWEEP_EVERY.toNanos()) && sweptAt.compareAndSet(swept, now)) {
                sweeps.incrementAndGet();
                for (String known : kinds.keySet()) { // each under its entry's lock, as the counting below
                    kinds.computeIfPresent(known, (k, kind) -> now - kind.seenAt >= WINDOW.toNanos() ? null : kind);
                }
            }
            if (kinds.size() >= KINDS) {
                return true;
            }
        }
        long[] heldBack = { -1 };
        kinds.compute(key, (k, kind) -> {
            if (kind == null) {
                kind = new Kind();
                kind.passedAt = now;
                heldBack[0] = 0;
            } else if (now - kind.passedAt >= WINDOW.toNanos()) {
                heldBack[0] = kind.heldBack;
                kind.passedAt = now;
                kind.heldBack = 0;
            } else {
                kind.heldBack++;
            }
            kind.seenAt = now;
            return kind;
        });
        if (heldBack[0] < 0) {
            return false;
        }
        if (heldBack[0] > 0 && record instanceof ExtLogRecord ext) {
            String said = ext.getFormattedMessage();
            ext.setMessage(said + " (" + heldBack[0] + " more like it in the last " + WINDOW.toSeconds()
                    + " s were not logged)", ExtLogRecord.FormatStyle.NO_FORMAT);
        }
        return true;
    }

    /** How many times a full table was swept for quiet kinds (a test's observer). */
    long sweeps() {
        return sweeps.get();
    }
}
