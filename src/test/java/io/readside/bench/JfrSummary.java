package io.readside.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a process spent its time, from a flight recording ({@code settings=profile}), as markdown: the hottest methods
 * by self samples ({@code jdk.ExecutionSample}: a thread running Java code, its top frame), the same samples by
 * package, by the first frame outside the JDK (whose code the JDK time was spent for), by thread, the allocation
 * sites ({@code jdk.ObjectAllocationSample}, weighted) and the GC pauses. Only events between {@code from} and
 * {@code to} count, so that the service's start (class loading, Quarkus' boot) does not hide the drain's profile.
 * Read with JDK 17's own {@code jdk.jfr.consumer} API, so no {@code jfr} tool of another JDK is needed.
 *
 * <p>From the command line: {@code java -cp ... io.readside.bench.JfrSummary <recording.jfr> [from to]} (the
 * benchmark logs each profiled drain's window).
 */
public final class JfrSummary {

    /** The coarse split, first match wins; the rest is "other". */
    private static final Map<String, List<String>> GROUPS = new LinkedHashMap<>();
    static {
        GROUPS.put("io.readside", List.of("io.readside."));
        GROUPS.put("io.vertx / io.netty", List.of("io.vertx.", "io.netty."));
        // context propagation wraps every Mutiny callback (capture, then restore: ArC's request context, JTA, ...)
        GROUPS.put("context propagation (io.smallrye.context, ArC contexts)", List.of("io.smallrye.context.",
                "io.smallrye.mutiny.context.", "io.quarkus.arc.", "com.arjuna."));
        GROUPS.put("reactive messaging (io.smallrye.reactive.messaging, MicroProfile)", List.of(
                "io.smallrye.reactive.messaging.", "org.eclipse.microprofile.reactive.messaging."));
        GROUPS.put("io.smallrye / mutiny", List.of("io.smallrye.", "org.jctools."));
        GROUPS.put("org.apache.kafka", List.of("org.apache.kafka.", "kafka."));
        GROUPS.put("com.fasterxml.jackson", List.of("com.fasterxml.jackson."));
        GROUPS.put("java.* / jdk.* / sun.*", List.of("java.", "javax.", "jdk.", "sun.", "com.sun."));
        GROUPS.put("micrometer", List.of("io.micrometer."));
        GROUPS.put("opentelemetry", List.of("io.opentelemetry."));
        GROUPS.put("io.quarkus", List.of("io.quarkus."));
        GROUPS.put("org.postgresql (JDBC)", List.of("org.postgresql."));
        GROUPS.put("org.jboss (logging, ...)", List.of("org.jboss."));
    }

    private JfrSummary() {
    }

    /** Arguments: the recording, then optionally the window's first and last instants (ISO-8601, as logged). */
    public static void main(String[] args) throws IOException {
        Instant from = args.length > 1 ? Instant.parse(args[1]) : Instant.MIN;
        Instant to = args.length > 2 ? Instant.parse(args[2]) : Instant.MAX;
        System.out.println(summarize(Path.of(args[0]), from, to, 25));
    }

    public static String summarize(Path recording, Instant from, Instant to, int top) throws IOException {
        Map<String, Long> self = new HashMap<>();
        Map<String, Long> byGroup = new HashMap<>();
        Map<String, Long> byCaller = new HashMap<>();
        Map<String, Long> byThread = new HashMap<>();
        Map<String, Long> readsideTotal = new HashMap<>();
        Map<String, Double> allocated = new HashMap<>();
        long samples = 0;
        long outside = 0;
        double allocatedBytes = 0;
        long gcCount = 0;
        double gcPauseMillis = 0;
        Instant first = null;
        Instant last = null;
        try (RecordingFile file = new RecordingFile(recording)) {
            while (file.hasMoreEvents()) {
                RecordedEvent event = file.readEvent();
                String type = event.getEventType().getName();
                boolean inWindow = !event.getStartTime().isBefore(from) && !event.getStartTime().isAfter(to);
                switch (type) {
                    case "jdk.ExecutionSample" -> {
                        if (!inWindow) {
                            outside++;
                            continue;
                        }
                        RecordedStackTrace stack = event.getStackTrace();
                        if (stack == null || stack.getFrames().isEmpty()) {
                            continue;
                        }
                        samples++;
                        first = first == null || event.getStartTime().isBefore(first) ? event.getStartTime() : first;
                        last = last == null || event.getStartTime().isAfter(last) ? event.getStartTime() : last;
                        RecordedMethod method = stack.getFrames().get(0).getMethod();
                        self.merge(name(method), 1L, Long::sum);
                        byGroup.merge(group(method.getType().getName()), 1L, Long::sum);
                        byCaller.merge(group(firstOutsideJdk(stack)), 1L, Long::sum);
                        // every io.readside method on the stack, once per sample: its time with its callees'
                        stack.getFrames().stream().map(frame -> frame.getMethod())
                                .filter(m -> m.getType().getName().startsWith("io.readside.")).map(JfrSummary::name)
                                .distinct().forEach(m -> readsideTotal.merge(m, 1L, Long::sum));
                        RecordedThread thread = event.getThread("sampledThread");
                        byThread.merge(thread == null ? "?" : threadGroup(thread.getJavaName()), 1L, Long::sum);
                    }
                    case "jdk.ObjectAllocationSample" -> {
                        if (!inWindow || event.getStackTrace() == null || event.getStackTrace().getFrames().isEmpty()) {
                            continue;
                        }
                        double weight = event.getLong("weight");
                        allocatedBytes += weight;
                        allocated.merge(name(event.getStackTrace().getFrames().get(0).getMethod()), weight,
                                Double::sum);
                    }
                    case "jdk.GarbageCollection" -> {
                        if (inWindow) {
                            gcCount++;
                            gcPauseMillis += event.getDuration("sumOfPauses").toNanos() / 1e6;
                        }
                    }
                    default -> {
                    }
                }
            }
        }
        StringBuilder out = new StringBuilder();
        double seconds = first == null ? 0 : (last.toEpochMilli() - first.toEpochMilli()) / 1000.0;
        out.append(String.format(Locale.ROOT, "%,d execution samples over %.0f s (%,d outside the window left out);"
                + " GC: %d collections, %.0f ms of pauses; allocated ~%,.0f MB (sampled, weighted)%n%n", samples,
                seconds, outside, gcCount, gcPauseMillis, allocatedBytes / 1e6));
        out.append("Hot methods by self samples (top frame):\n\n| # | samples | share | method |\n|---|---|---|---|\n");
        int rank = 0;
        for (Map.Entry<String, Long> entry : sorted(self)) {
            if (++rank > top) {
                break;
            }
            out.append(String.format(Locale.ROOT, "| %d | %,d | %.1f%% | `%s` |%n", rank, entry.getValue(),
                    100.0 * entry.getValue() / samples, entry.getKey()));
        }
        out.append("\nReadside's methods by total samples (on the stack: their own time and their callees')\n\n"
                + "| # | samples | share | method |\n|---|---|---|---|\n");
        rank = 0;
        for (Map.Entry<String, Long> entry : sorted(readsideTotal)) {
            if (++rank > top) {
                break;
            }
            out.append(String.format(Locale.ROOT, "| %d | %,d | %.1f%% | `%s` |%n", rank, entry.getValue(),
                    100.0 * entry.getValue() / samples, entry.getKey()));
        }
        out.append("\nBy package: of the top frame (self), and of the first frame outside the JDK (the code the"
                + " JDK's time was spent for)\n\n| package | self | first outside the JDK |\n|---|---|---|\n");
        List<String> groups = new ArrayList<>(GROUPS.keySet());
        groups.add("other");
        groups.add("only JDK frames");
        for (String group : groups) {
            long own = byGroup.getOrDefault(group, 0L);
            long caller = byCaller.getOrDefault(group, 0L);
            if (own + caller == 0) {
                continue;
            }
            out.append(String.format(Locale.ROOT, "| %s | %.1f%% | %.1f%% |%n", group, 100.0 * own / samples,
                    100.0 * caller / samples));
        }
        out.append("\nBy thread (numbers folded)\n\n| thread | share |\n|---|---|\n");
        rank = 0;
        for (Map.Entry<String, Long> entry : sorted(byThread)) {
            if (++rank > 10) {
                break;
            }
            out.append(String.format(Locale.ROOT, "| %s | %.1f%% |%n", entry.getKey(),
                    100.0 * entry.getValue() / samples));
        }
        out.append("\nAllocation by top frame (sampled, weighted)\n\n| MB | share | method |\n|---|---|---|\n");
        List<Map.Entry<String, Double>> allocation = new ArrayList<>(allocated.entrySet());
        allocation.sort(Map.Entry.<String, Double> comparingByValue().reversed());
        for (Map.Entry<String, Double> entry : allocation.subList(0, Math.min(12, allocation.size()))) {
            out.append(String.format(Locale.ROOT, "| %,.0f | %.1f%% | `%s` |%n", entry.getValue() / 1e6,
                    100.0 * entry.getValue() / allocatedBytes, entry.getKey()));
        }
        return out.toString();
    }

    private static List<Map.Entry<String, Long>> sorted(Map<String, Long> counts) {
        List<Map.Entry<String, Long>> entries = new ArrayList<>(counts.entrySet());
        entries.sort(Map.Entry.<String, Long> comparingByValue(Comparator.reverseOrder())
                .thenComparing(Map.Entry.comparingByKey()));
        return entries;
    }

    private static String name(RecordedMethod method) {
        return method.getType().getName() + "." + method.getName();
    }

    private static String group(String className) {
        if (className == null) {
            return "only JDK frames";
        }
        for (Map.Entry<String, List<String>> group : GROUPS.entrySet()) {
            for (String prefix : group.getValue()) {
                if (className.startsWith(prefix)) {
                    return group.getKey();
                }
            }
        }
        return "other";
    }

    /** The class of the first frame, from the top, that is not the JDK's; null when there is none. */
    private static String firstOutsideJdk(RecordedStackTrace stack) {
        for (RecordedFrame frame : stack.getFrames()) {
            String name = frame.getMethod().getType().getName();
            if (!group(name).equals("java.* / jdk.* / sun.*")) {
                return name;
            }
        }
        return null;
    }

    /** "vert.x-eventloop-thread-1" and "-0" are one line. */
    private static String threadGroup(String name) {
        return name == null ? "?" : name.replaceAll("\\d+", "N");
    }
}
