package io.readside.bench;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.flywaydb.core.Flyway;

import io.readside.dev.EmbeddedKafka;
import io.readside.dev.EmbeddedPostgresql;
import io.readside.security.Roles;
import io.readside.testing.LocalHost;
import io.readside.testing.ServiceProcess;
import io.readside.testing.StreamingReplica;
import io.readside.testing.Tokens;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * Readside beside two hand-written loops on one machine, in one run (bench/run.sh): a Kafka broker and a PostgreSQL,
 * a seeded backlog of orders over 4 partitions, then each measurement {@code runs} times, medians reported with
 * their spread. Loop A ({@link LimitPipeline}) writes the orders' read models only; loop B ({@link SameWorkPipeline})
 * does the same work as Readside (outbox, outgoing records). {@code -Dbench.parts} chooses the parts (drain,
 * latency, query, ready; default all); {@code -Dbench.jfr-drain=readside|all} records the drains with Java Flight
 * Recorder and prints where the time went ({@link JfrSummary}). Not a test: figures are printed, nothing is asserted.
 */
public final class Benchmark {

    private static final Path WORK = Path.of("target", "bench");
    private static final List<String> CATEGORIES = List.of("books", "electronics", "games", "garden", "music", "toys",
            "food", "beauty", "sports", "tools", "office", "pets");
    private static final int USERS = 5_000;
    /** {@code -Dbench.signups}: how many of the users sign up on user-events before the orders (loop B reads none). */
    private static final int SIGNUPS = Integer.getInteger("bench.signups", USERS);
    private static final int PARTITIONS = 4;
    private static final int WARM_UP_ORDERS = 200_000;
    /** Loop B at Readside's poll size and at a larger one: the ratio is taken against its best. */
    private static final int[] LOOP_B_POLL_SIZES = { 2_000, 5_000 };
    /** The latency figures also without the first seconds of sending (the JIT compiling the small batches). */
    private static final int LATENCY_SETTLING_SECONDS = 10;

    private final int orders = Integer.getInteger("bench.orders", 300_000);
    private final int runs = Integer.getInteger("bench.runs", 3);
    private final int latencySeconds = Integer.getInteger("bench.latency-seconds", 45);
    private final int queryThreads = 2;
    private final int queryConnections = 32;
    private final int querySeconds = Integer.getInteger("bench.query-seconds", 30);
    private final int commandsInSequence = Integer.getInteger("bench.commands", 1_000);
    private final int commandClients = Integer.getInteger("bench.clients", 8);
    private final int commandSeconds = Integer.getInteger("bench.command-seconds", 20);
    private final String classpath = System.getProperty("java.class.path");
    /**
     * Which parts run: drain (Readside, loop A, loop B), latency, query (wrk, pgbench), ready (start to readiness);
     * readside (Readside's drains alone, without drain: to compare its settings).
     */
    private final List<String> parts = List.of(System.getProperty("bench.parts", "drain,latency,query,ready,commands")
            .toLowerCase(Locale.ROOT).replace(" ", "").split(","));
    /** readside: flight recordings of Readside's drains; all: of loop B's too; absent: none. */
    private final String jfr = System.getProperty("bench.jfr-drain", "");
    private final Map<String, String> profiles = new LinkedHashMap<>();
    private Connection watch;

    private static final Path PRIMARY_DATA = WORK.resolve("postgres").resolve("data");

    private EmbeddedKafka kafka;
    private EmbeddedPostgresql postgres;
    private long produced;
    private int distinctOrders;
    private final Map<String, List<Double>> figures = new LinkedHashMap<>();

    public static void main(String[] args) throws Exception {
        try {
            new Benchmark().run();
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1); // the embedded broker's threads would keep the JVM up
        }
        System.exit(0);
    }

    private void run() throws Exception {
        LocalHost.deleteRecursively(WORK);
        kafka = EmbeddedKafka.start(WORK.resolve("kafka"), 0, 0, PARTITIONS);
        // kept at a stop: the replica is a copy of it
        postgres = EmbeddedPostgresql.start(PRIMARY_DATA, 0, true, DatabaseStatements.serverConfig());
        DatabaseStatements.install(postgres.jdbcUrl());
        try (Admin admin = admin()) {
            // the service's outgoing and other incoming topics too: auto-created by the first send of a measured
            // drain, they cost it metadata retries, and the relay's first batches NOT_LEADER_OR_FOLLOWER and
            // OUT_OF_ORDER_SEQUENCE_NUMBER retries (416 payment requests published twice in the first 300,000 run)
            List<NewTopic> topics = new ArrayList<>();
            for (String topic : List.of("orders", "user-events", "processed-orders", "revenue-by-category",
                    "payment-requests", "refund-requests", "payments")) {
                topics.add(new NewTopic(topic, PARTITIONS, (short) 1));
            }
            admin.createTopics(topics).all().get();
        }
        if (System.getProperty("bench.latency-rate") != null) { // one latency run alone, e.g. to profile it
            latency(0, Integer.getInteger("bench.latency-rate"), 1);
            printTable(0);
            return;
        }
        if (System.getProperty("bench.latency-of-max") != null) { // the latency part alone, for a measured maximum
            latencies(Integer.getInteger("bench.latency-of-max"));
            printTable(0);
            return;
        }
        boolean drain = parts.contains("drain");
        boolean query = parts.contains("query");
        boolean latency = parts.contains("latency");
        boolean ready = parts.contains("ready");
        log("parts: %s; %d orders, %d runs%s", parts, orders, runs, jfr.isEmpty() ? "" : "; flight recording: " + jfr);
        if (drain || query || latency || parts.contains("readside")) {
            long start = System.nanoTime();
            produceBacklog();
            log("backlog: %d orders (%d distinct) and %d signups produced in %.0f s", produced, distinctOrders, SIGNUPS,
                    (System.nanoTime() - start) / 1e9);
        }
        if (drain) {
            // interleaved, so that a slow stretch of the shared machine does not fall on one side only
            for (int i = 1; i <= runs; i++) {
                readsideDrain(i, query && i == runs);
                if (query && i == runs) {
                    pgbench(); // on the table that drain filled
                    minimalReads();
                    throughAReplica("bench-readside-" + i);
                }
                limitDrain(i);
                for (int pollSize : LOOP_B_POLL_SIZES) {
                    sameWorkDrain(i, pollSize);
                }
            }
        } else if (parts.contains("readside") && !query && !latency) { // Readside's drains alone, to compare settings
            for (int i = 1; i <= runs; i++) {
                readsideDrain(i, false);
            }
        } else if (query || latency) { // one drain: it fills the table and gives the rate the latency runs are set at
            readsideDrain(1, query);
            if (query) {
                pgbench();
                minimalReads();
                throughAReplica("bench-readside-1");
            }
        }
        if (ready) { // on an empty topic: a start that drains nothing (recorded with -Dbench.jfr)
            for (int i = 1; i <= runs; i++) {
                readyOnly(i);
            }
        }
        if (latency) {
            latencies(median("readside records/s"));
        }
        if (parts.contains("commands")) {
            for (int i = 1; i <= runs; i++) {
                commands(i);
            }
        }
        printTable(0);
        kafka.close();
        closeWatch();
        postgres.close();
    }

    // --- the backlog ----------------------------------------------------------------------------------------------

    /** Seeded: 5,000 users, 12 categories, 10% corrections, 2% late; event time advances ~50 ms per order. */
    private void produceBacklog() throws Exception {
        Random random = new Random(1_000_000);
        try (KafkaProducer<String, String> producer = producer()) {
            List<Future<RecordMetadata>> pending = new ArrayList<>();
            for (int user = 1; user <= SIGNUPS; user++) {
                pending.add(producer.send(new ProducerRecord<>("user-events", Integer.toString(user),
                        "{\"type\":\"user.signup\",\"user_id\":%d,\"email\":\"user%d@example.com\",\"timestamp\":1764230000}"
                                .formatted(user, user))));
            }
            long clock = 1_764_230_000_000L;
            for (int i = 0; i < orders; i++) {
                clock += 10 + random.nextInt(81);
                String id = distinctOrders > 0 && random.nextDouble() < 0.10 ? "o-" + random.nextInt(distinctOrders)
                        : "o-" + distinctOrders++;
                long createdAt = clock - (random.nextDouble() < 0.02 ? 400_000 + random.nextInt(300_000)
                        : random.nextInt(2_000));
                pending.add(producer.send(new ProducerRecord<>("orders", id, order(id, 1 + random.nextInt(USERS),
                        CATEGORIES.get(random.nextInt(CATEGORIES.size())),
                        BigDecimal.valueOf(100 + random.nextInt(99_900), 2), createdAt))));
                if (pending.size() >= 10_000) {
                    for (Future<RecordMetadata> sent : pending) {
                        sent.get();
                    }
                    pending.clear();
                }
            }
            for (Future<RecordMetadata> sent : pending) {
                sent.get();
            }
        }
        produced = orders;
    }

    private static String order(String id, long user, String category, BigDecimal total, long createdAtMillis) {
        return "{\"order_id\":\"%s\",\"user_id\":%d,\"category\":\"%s\",\"total\":\"%s\",\"timestamp\":%d.%03d}"
                .formatted(id, user, category, total, createdAtMillis / 1000, createdAtMillis % 1000);
    }

    // --- Readside: drain, then (last run) the query side ----------------------------------------------------------

    private void readsideDrain(int run, boolean thenQueries) throws Exception {
        resetDatabase(false);
        String group = "bench-readside-" + run;
        long[] before = outgoing();
        long databaseBefore = databaseCpuTicks();
        DatabaseStatements.reset(postgres.jdbcUrl());
        int port = LocalHost.freePort();
        Path recording = WORK.resolve("readside-drain-" + run + ".jfr");
        List<String> jvm = jfr.isEmpty() ? List.of() : flightRecording(recording);
        long start = System.nanoTime();
        ServiceProcess service = ServiceProcess.start("readside-" + run, port, serviceProperties(group, "orders"),
                WORK, serviceJvm(jvm));
        while (service.managementStatus("/q/health/ready") != 200) {
            LockSupport.parkNanos(20_000_000);
            if (!service.alive()) {
                throw new IllegalStateException("Readside exited; see " + WORK.resolve("readside-" + run + ".log"));
            }
        }
        double ready = (System.nanoTime() - start) / 1e9;
        Instant readyAt = Instant.now();
        // drained = every order and signup applied (positions in PostgreSQL = end offsets), as before issue 16
        while (applied(group, "orders") < produced || applied(group, "user-events") < SIGNUPS) {
            LockSupport.parkNanos(100_000_000);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Instant drainedAt = Instant.now();
        long[] cpuAndPeak = cpuTicksAndPeakRss(service.pid());
        long[] sent = minus(outgoing(), before);
        long unpublished = unpublishedOutbox();
        // the relay publishes the payment requests after their transactions: how long until it has them all
        while (unpublishedOutbox() > 0 && (System.nanoTime() - start) / 1e9 < seconds + 300) {
            LockSupport.parkNanos(100_000_000);
        }
        double withRelay = (System.nanoTime() - start) / 1e9;
        // the database's work until the outbox is published too, as loop B's process publishes before it ends
        long databaseTicks = databaseCpuTicks() - databaseBefore;
        statements("Readside drain, run " + run);
        long[] sentWithRelay = minus(outgoing(), before);
        add(jfr.isEmpty() ? "readside ready s, at a drain's start" : "readside ready s, at a drain's start,"
                + " flight-recorded", ready);
        add("readside records/s", produced / seconds);
        add("readside records/s from readiness", produced / (seconds - ready));
        add("readside cpu-s per 1000", cpuAndPeak[0] / 100.0 / (produced / 1000.0));
        add("readside peak rss MiB", cpuAndPeak[1] / 1024.0);
        add("readside database cpu-s per 1000", databaseTicks / 100.0 / (produced / 1000.0));
        // the counts once the relay has published every outbox row (at the drained moment it may still be at work)
        add("readside processed-orders published", sentWithRelay[0]);
        add("readside revenue-by-category published", sentWithRelay[1]);
        add("readside payment-requests published", sentWithRelay[2]);
        add("readside outbox rows unpublished when drained", unpublished);
        add("readside records/s until the outbox is published too", produced / withRelay);
        log("readside run %d: ready in %.2f s, %d orders applied in %.1f s (%.0f/s), cpu %.1f s, peak RSS %d MiB;"
                + " published %,d processed-orders, %,d revenue-by-category, %,d payment-requests (%,d outbox rows"
                + " left, all published after %.1f s: %,d)", run, ready, produced, seconds, produced / seconds,
                cpuAndPeak[0] / 100.0, cpuAndPeak[1] / 1024, sent[0], sent[1], sent[2], unpublished, withRelay,
                sentWithRelay[2]);
        Instant readsFrom = Instant.now();
        if (thenQueries) {
            // the first 30 s after a drain apart: a JVM that has compiled the drain's paths, not yet the reads'
            wrk(port, 0, "GET /orders/{id} in the first 30 s after the drain");
            readsFrom = Instant.now();
            for (int i = 1; i <= runs; i++) {
                wrk(port, i);
            }
        }
        Instant readsTo = Instant.now();
        service.terminate(Duration.ofSeconds(60));
        if (!jfr.isEmpty()) {
            // from readiness to drained: the drain's steady state, without the start's class loading and boot
            profile("Readside drain, run " + run, recording, readyAt, drainedAt);
            if (thenQueries) {
                profile("Readside GET /orders/{id} under wrk, run " + run, recording, readsFrom, readsTo);
            }
        }
    }

    /**
     * Readiness only: started on an empty database (its migrations included), stopped once ready; then again on the
     * database it migrated, as a restarted or added instance starts (the migrations only validated).
     */
    private void readyOnly(int run) throws Exception {
        resetDatabase(false);
        String topic = "ready-" + run; // nothing to drain while it starts
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
        }
        List<String> archive = List.of();
        if (Boolean.getBoolean("bench.trained-archive")) {
            archive = trainedArchive(run, topic);
            resetDatabase(false); // the training run migrated it
        }
        for (boolean migrated : new boolean[] { false, true }) {
            String name = "readside-ready-" + run + (migrated ? "-migrated" : "");
            List<String> jvm = new ArrayList<>(recorded(name));
            jvm.addAll(archive);
            long start = System.nanoTime();
            ServiceProcess service = ServiceProcess.start(name, LocalHost.freePort(),
                    serviceProperties("bench-ready-" + run, topic), WORK, serviceJvm(jvm));
            while (service.managementStatus("/q/health/ready") != 200) {
                LockSupport.parkNanos(20_000_000);
                if (!service.alive()) {
                    throw new IllegalStateException("Readside exited; see " + WORK.resolve(name + ".log"));
                }
            }
            double ready = (System.nanoTime() - start) / 1e9;
            service.terminate(Duration.ofSeconds(60));
            add(migrated ? "readside ready s, on a migrated database" : "readside ready s, on an empty database",
                    ready);
            log("readside run %d: ready in %.2f s%s", run, ready, migrated ? " on a migrated database" : "");
        }
    }

    /**
     * {@code -Dbench.trained-archive=true}: a class archive made by a training run, a start up to readiness on this
     * broker and database then a clean stop ({@code -XX:ArchiveClassesAtExit}), instead of the package step's, which
     * holds the classes of Quarkus' static init only. The options that use it.
     */
    private List<String> trainedArchive(int run, String topic) throws Exception {
        Path archive = WORK.resolve("trained-" + run + ".jsa").toAbsolutePath();
        Files.deleteIfExists(archive);
        ServiceProcess training = ServiceProcess.start("readside-training-" + run, LocalHost.freePort(),
                serviceProperties("bench-training-" + run, topic), WORK,
                serviceJvm(List.of("-XX:ArchiveClassesAtExit=" + archive)));
        training.awaitReady(Duration.ofSeconds(60));
        training.terminate(Duration.ofSeconds(120));
        if (!Files.exists(archive)) {
            throw new IllegalStateException("the training run wrote no archive; see " + WORK);
        }
        log("readside run %d: trained archive %d MiB", run, Files.size(archive) >> 20);
        return List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto");
    }

    /** {@code -Dbench.jfr=1}: a latency or ready run's Readside flight-recorded into {@code <name>.jfr}. */
    private static List<String> recorded(String name) {
        return System.getProperty("bench.jfr") == null ? List.of()
                : List.of("-XX:StartFlightRecording=filename=" + WORK.resolve(name + ".jfr").toAbsolutePath()
                        + ",settings=profile");
    }

    /** {@code -Dbench.service-jvm=<options>}: more JVM options (by spaces or commas) for every Readside start. */
    private static List<String> serviceJvm(List<String> more) {
        List<String> options = new ArrayList<>();
        for (String option : System.getProperty("bench.service-jvm", "").trim().split("[\\s,]+")) {
            if (!option.isEmpty()) {
                options.add(option);
            }
        }
        options.addAll(more);
        return options;
    }

    /** A recording from the start, written when the process exits (the summary keeps the window it is given). */
    private static List<String> flightRecording(Path file) {
        // deep stacks (Mutiny, Vert.x): 64 frames, the default, would cut off the Readside methods they run for
        return List.of("-XX:FlightRecorderOptions:stackdepth=512",
                "-XX:StartFlightRecording=filename=" + file.toAbsolutePath() + ",dumponexit=true,settings=profile");
    }

    /** With {@code -Dbench.statements=true}: the drain's statements, in the results as a profile of its own. */
    private void statements(String drain) throws Exception {
        String summary = DatabaseStatements.summary(postgres.jdbcUrl(), produced, 15);
        if (!summary.isEmpty()) {
            String title = "PostgreSQL statements, " + drain;
            profiles.put(title, summary);
            log("%s:%n%s", title, summary);
        }
    }

    private void profile(String title, Path recording, Instant from, Instant to) throws IOException {
        if (!Files.exists(recording)) {
            log("no flight recording at %s", recording);
            return;
        }
        log("profile of %s: %s from %s to %s", title, recording, from, to);
        String summary = JfrSummary.summarize(recording, from, to, 25);
        profiles.put(title, summary);
        Files.writeString(WORK.resolve(title.replaceAll("[^A-Za-z0-9]+", "-").toLowerCase(Locale.ROOT) + ".md"),
                "## " + title + "\n\n" + summary);
    }

    /** Records on processed-orders, revenue-by-category and payment-requests (end offsets, all partitions). */
    private long[] outgoing() throws Exception {
        return new long[] { endOffsets("processed-orders"), endOffsets("revenue-by-category"),
                endOffsets("payment-requests") };
    }

    private static long[] minus(long[] after, long[] before) {
        long[] difference = new long[after.length];
        for (int i = 0; i < after.length; i++) {
            difference[i] = after[i] - before[i];
        }
        return difference;
    }

    private long unpublishedOutbox() {
        return watched("SELECT count(*) FROM outbox WHERE published_at IS NULL");
    }

    /**
     * A count the benchmark waits on, over one kept connection: a connection per look would be a backend started
     * every 100 ms, counted in PostgreSQL's CPU. 0 while the tables are not migrated yet.
     */
    private long watched(String sql) {
        try {
            if (watch == null || watch.isClosed()) {
                watch = DriverManager.getConnection(postgres.jdbcUrl(), EmbeddedPostgresql.USER,
                        EmbeddedPostgresql.USER);
            }
            try (Statement statement = watch.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
                rows.next();
                return rows.getLong(1);
            }
        } catch (java.sql.SQLException e) {
            if (!"42P01".equals(e.getSQLState())) { // not "no such table": the server restarted, connect again
                closeWatch();
            }
            return 0;
        }
    }

    private void closeWatch() {
        try {
            if (watch != null) {
                watch.close();
            }
        } catch (java.sql.SQLException ignored) {
            // gone with its server
        }
        watch = null;
    }

    private Map<String, String> serviceProperties(String group, String topic) {
        Map<String, String> properties = ServiceProcess.connectedTo(kafka.bootstrapServers(), postgres.port());
        properties.put("mp.messaging.incoming.orders.topic", topic);
        properties.put("mp.messaging.incoming.orders.group.id", group);
        properties.put("mp.messaging.incoming.user-events.group.id", group);
        // -Dbench.service.<key>=<value>: a setting of the service to try
        System.getProperties().stringPropertyNames().stream().filter(key -> key.startsWith("bench.service."))
                .forEach(key -> properties.put(key.substring("bench.service.".length()), System.getProperty(key)));
        return properties;
    }

    /** wrk on GET /orders/{id} over random existing ids. */
    private void wrk(int port, int run) throws Exception {
        wrk(port, run, "GET /orders/{id}");
    }

    /**
     * The same reads, answered by a streaming replica of the database ({@code readside.query.replicas}) on the same
     * machine: what the routing costs a request, not how far replicas carry. The primary is stopped for the replica's
     * cold copy, then both run; a service of the drained group (nothing left to apply) serves the reads.
     */
    private void throughAReplica(String group) throws Exception {
        int primaryPort = postgres.port();
        postgres.close();
        StreamingReplica.copy(PRIMARY_DATA, primaryPort, WORK.resolve("replica"));
        postgres = EmbeddedPostgresql.start(PRIMARY_DATA, primaryPort, true, DatabaseStatements.serverConfig());
        int replicaPort = LocalHost.freePort();
        try (EmbeddedPostgres replica = StreamingReplica.start(WORK.resolve("replica"), replicaPort)) {
            Map<String, String> properties = serviceProperties(group, "orders");
            properties.put("readside.query.replicas", "postgresql://localhost:" + replicaPort + "/postgres");
            int port = LocalHost.freePort();
            ServiceProcess service = ServiceProcess.start("readside-replica-reads", port, properties, WORK,
                    serviceJvm(List.of()));
            long bound = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (service.managementStatus("/q/health/well") != 200) { // the replica in the rotation, among the rest
                LockSupport.parkNanos(100_000_000);
                if (!service.alive() || System.nanoTime() > bound) {
                    throw new IllegalStateException("Readside with a replica not well; see "
                            + WORK.resolve("readside-replica-reads.log"));
                }
            }
            // a new JVM: warmed up as the primary's service was by its drain, or the JIT's first seconds are measured
            command(List.of("wrk", "-t" + queryThreads, "-c" + queryConnections, "-d" + querySeconds + "s", "-s",
                    Path.of("bench", "random-order.lua").toString(), "http://localhost:" + port),
                    Map.of("ORDER_COUNT", Integer.toString(distinctOrders),
                            "TOKEN", Tokens.service("bench-reader", Roles.READER)));
            for (int i = 1; i <= runs; i++) {
                wrk(port, i, "GET /orders/{id} via a replica");
            }
            // the replica answered, not the primary: the service's own count of where its GET queries ran
            String metrics = service.managementGet("/q/metrics");
            log("GET queries by where they ran:%n%s", metrics.lines().filter(line -> line.startsWith(
                    "readside_query_reads_total")).collect(java.util.stream.Collectors.joining("\n")));
            add("GET /orders/{id} via a replica: share answered by the primary", primaryShare(metrics));
            service.terminate(Duration.ofSeconds(60));
        }
        LocalHost.deleteRecursively(WORK.resolve("replica"));
    }

    /** Of the GET queries counted in {@code readside_query_reads_total}, the share the primary answered. */
    private static double primaryShare(String metrics) {
        double primary = 0;
        double all = 0;
        for (String line : metrics.lines().filter(l -> l.startsWith("readside_query_reads_total{")).toList()) {
            String sample = line.contains(" # ") ? line.substring(0, line.indexOf(" # ")) : line; // an exemplar after
            double count = Double.parseDouble(sample.substring(sample.lastIndexOf(' ') + 1));
            all += count;
            if (line.contains("source=\"primary\"")) {
                primary += count;
            }
        }
        if (all == 0) {
            throw new IllegalStateException("no GET query was counted: " + metrics.lines().filter(l -> l.startsWith(
                    "readside_query")).toList());
        }
        return primary / all;
    }

    private void wrk(int port, int run, String figure) throws Exception {
        Path script = Path.of("bench", "random-order.lua");
        String output = command(List.of("wrk", "-t" + queryThreads, "-c" + queryConnections, "-d" + querySeconds + "s",
                "--latency", "-s", script.toString(), "http://localhost:" + port),
                Map.of("ORDER_COUNT", Integer.toString(distinctOrders),
                        "TOKEN", Tokens.service("bench-reader", Roles.READER)));
        double rate = number(output, "Requests/sec:\\s+([0-9.]+)");
        add(figure + " requests/s", rate);
        add(figure + " p50 ms", millis(output, "50%"));
        add(figure + " p99 ms", millis(output, "99%"));
        if (output.contains("Non-2xx")) {
            log("wrk run %d (%s): non-2xx answers!%n%s", run, figure, output);
        }
        log("wrk run %d (%s): %.0f requests/s, p50 %.2f ms, p99 %.2f ms", run, figure, rate, millis(output, "50%"),
                millis(output, "99%"));
    }

    /** The database's own ceiling for the same point lookup: pgbench, select-only, same concurrency. */
    private void pgbench() throws Exception {
        Path script = Path.of("bench", "select-order.sql");
        for (int run = 1; run <= runs; run++) {
            String output = command(List.of("pgbench", "-n", "-M", "prepared", "-c", Integer.toString(queryConnections),
                    "-j", Integer.toString(queryThreads), "-T", Integer.toString(querySeconds),
                    "-D", "order_count=" + distinctOrders, "-f", script.toString(), "-h", "localhost",
                    "-p", Integer.toString(postgres.port()), "-U", EmbeddedPostgresql.USER, EmbeddedPostgresql.DATABASE),
                    Map.of("PGPASSWORD", EmbeddedPostgresql.USER));
            double tps = number(output, "tps = ([0-9.]+) \\(without initial connection time\\)");
            add("pgbench select-only tps", tps);
            add("pgbench latency avg ms", number(output, "latency average = ([0-9.]+) ms"));
            log("pgbench run %d: %.0f selects/s", run, tps);
        }
    }

    /**
     * The same reads from {@link MinimalReads} (Vert.x, the reactive client and the token check alone): what the
     * framework and the service's own filters cost a request. Warmed up by one unmeasured wrk run, as Readside's
     * service was by its drain and its first wrk run.
     */
    private void minimalReads() throws Exception {
        int port = LocalHost.freePort();
        Process server = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", classpath, MinimalReads.class.getName(), Integer.toString(port),
                Integer.toString(postgres.port()), EmbeddedPostgresql.USER, EmbeddedPostgresql.USER,
                EmbeddedPostgresql.DATABASE).redirectErrorStream(true)
                .redirectOutput(WORK.resolve("minimal-reads.log").toFile()).start();
        try {
            long bound = System.nanoTime() + Duration.ofMinutes(1).toNanos();
            while (!Files.readString(WORK.resolve("minimal-reads.log")).contains("MINIMAL listening")) {
                LockSupport.parkNanos(50_000_000);
                if (!server.isAlive() || System.nanoTime() > bound) {
                    throw new IllegalStateException("MinimalReads did not start; see "
                            + WORK.resolve("minimal-reads.log"));
                }
            }
            wrk(port, 0, "minimal Vert.x reads, warm-up");
            for (int i = 1; i <= runs; i++) {
                wrk(port, i, "minimal Vert.x reads");
            }
        } finally {
            server.destroy();
            server.waitFor();
        }
        figures.keySet().removeIf(figure -> figure.startsWith("minimal Vert.x reads, warm-up"));
    }

    // --- the hand-written loops ----------------------------------------------------------------------------------

    /** Loop A, the orders-only limit: the read models of orders, nothing published. */
    private void limitDrain(int run) throws Exception {
        resetDatabase(true);
        long start = System.nanoTime();
        Path recording = WORK.resolve("loop-a-drain-" + run + ".jfr");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m"));
        if (jfr.equals("all")) { // recorded like the others, so that all three carry the recorder's cost
            command.addAll(flightRecording(recording));
        }
        command.addAll(List.of("-cp", classpath, LimitPipeline.class.getName(), kafka.bootstrapServers(),
                postgres.jdbcUrl(), EmbeddedPostgresql.USER, EmbeddedPostgresql.USER, "orders", "bench-limit-" + run,
                Long.toString(produced)));
        Instant startedAt = Instant.now();
        String output = command(command, Map.of());
        double seconds = (System.nanoTime() - start) / 1e9;
        Matcher m = Pattern.compile("LIMIT records=(\\d+) seconds=([0-9.]+) cpu_seconds=([0-9.]+) peak_rss_kb=(\\d+)")
                .matcher(output);
        if (!m.find()) {
            throw new IllegalStateException("the limit pipeline said: " + output);
        }
        add("loop A records/s", produced / seconds);
        add("loop A cpu-s per 1000", Double.parseDouble(m.group(3)) / (produced / 1000.0));
        add("loop A peak rss MiB", Long.parseLong(m.group(4)) / 1024.0);
        log("loop A run %d: %d orders in %.1f s (%.0f/s), cpu %s s, peak RSS %d MiB", run, produced, seconds,
                produced / seconds, m.group(3), Long.parseLong(m.group(4)) / 1024);
        if (jfr.equals("all")) {
            profile("loop A drain, run " + run, recording, startedAt, Instant.now());
        }
    }

    /** Loop B, the same work as Readside: read models, outbox, and the outgoing records published. */
    private void sameWorkDrain(int run, int pollSize) throws Exception {
        resetDatabase(true);
        long[] before = outgoing();
        String name = pollSize == LOOP_B_POLL_SIZES[0] ? "loop B" : "loop B at " + pollSize + " a poll";
        Path recording = WORK.resolve("loop-b-" + pollSize + "-drain-" + run + ".jfr");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m"));
        if (jfr.equals("all")) {
            command.addAll(flightRecording(recording));
        }
        command.addAll(List.of("-cp", classpath, SameWorkPipeline.class.getName(), kafka.bootstrapServers(),
                postgres.jdbcUrl(), EmbeddedPostgresql.USER, EmbeddedPostgresql.USER, "orders",
                "bench-loop-b-" + pollSize + "-" + run, Long.toString(produced), Integer.toString(pollSize)));
        Instant startedAt = Instant.now();
        long databaseBefore = databaseCpuTicks();
        DatabaseStatements.reset(postgres.jdbcUrl());
        long start = System.nanoTime();
        String output = command(command, Map.of());
        double seconds = (System.nanoTime() - start) / 1e9;
        long databaseTicks = databaseCpuTicks() - databaseBefore;
        statements(name + " drain, run " + run);
        Matcher m = Pattern.compile("SAMEWORK records=(\\d+) seconds=([0-9.]+) cpu_seconds=([0-9.]+)"
                + " peak_rss_kb=(\\d+)").matcher(output);
        if (!m.find()) {
            throw new IllegalStateException("loop B said: " + output);
        }
        long[] sent = minus(outgoing(), before);
        add(name + " records/s", produced / seconds);
        add(name + " cpu-s per 1000", Double.parseDouble(m.group(3)) / (produced / 1000.0));
        add(name + " peak rss MiB", Long.parseLong(m.group(4)) / 1024.0);
        add(name + " database cpu-s per 1000", databaseTicks / 100.0 / (produced / 1000.0));
        add(name + " processed-orders published", sent[0]);
        add(name + " revenue-by-category published", sent[1]);
        add(name + " payment-requests published", sent[2]);
        log(name + " run %d: %d orders in %.1f s (%.0f/s), cpu %s s, peak RSS %d MiB; published %,d processed-orders,"
                + " %,d revenue-by-category, %,d payment-requests", run, produced, seconds, produced / seconds,
                m.group(3), Long.parseLong(m.group(4)) / 1024, sent[0], sent[1], sent[2]);
        if (jfr.equals("all")) {
            profile(name + " drain, run " + run, recording, startedAt, Instant.now());
        }
    }

    // --- end-to-end latency, open loop ----------------------------------------------------------------------------

    private void latencies(double maximumRate) throws Exception {
        for (double share : new double[] { 0.5, 0.8 }) {
            for (int i = 1; i <= runs; i++) {
                latency(share, (int) (maximumRate * share), i);
            }
        }
    }

    /** A fixed send schedule at {@code rate} orders/s; latency = record timestamp to its commit in the read model. */
    private void latency(double share, int rate, int run) throws Exception {
        resetDatabase(false);
        String topic = "latency-" + (int) (share * 100) + "-" + run;
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
        }
        String group = "bench-" + topic;
        int port = LocalHost.freePort();
        ServiceProcess service = ServiceProcess.start(topic, port, serviceProperties(group, topic), WORK,
                serviceJvm(recorded(topic)));
        service.awaitReady(Duration.ofSeconds(60));
        Random random = new Random(run);
        long sent = 0;
        try (KafkaProducer<String, String> producer = producer()) {
            // warm-up: a fresh JVM compiles first; it drains a backlog of old orders before the measured flow
            for (int k = 0; k < WARM_UP_ORDERS; k++, sent++) {
                producer.send(new ProducerRecord<>(topic, "w-" + k, order("w-" + k, 1 + random.nextInt(USERS),
                        CATEGORIES.get(random.nextInt(CATEGORIES.size())), BigDecimal.ONE, 1_764_230_000_000L)));
            }
            producer.flush();
            while (applied(group, topic) < sent) {
                LockSupport.parkNanos(100_000_000);
            }
            long begin = System.nanoTime();
            long tickNanos = 10_000_000; // 100 sends a second
            long measured = 0;
            for (long tick = 0; tick < latencySeconds * 100L; tick++) {
                LockSupport.parkNanos(begin + tick * tickNanos - System.nanoTime());
                long due = (tick + 1) * rate / 100 - measured;
                for (long k = 0; k < due; k++, sent++, measured++) {
                    String id = "l-" + measured;
                    producer.send(new ProducerRecord<>(topic, id, order(id, 1 + random.nextInt(USERS),
                            CATEGORIES.get(random.nextInt(CATEGORIES.size())),
                            BigDecimal.valueOf(100 + random.nextInt(99_900), 2), System.currentTimeMillis())));
                }
            }
        }
        while (applied(group, topic) < sent) {
            LockSupport.parkNanos(100_000_000);
        }
        service.terminate(Duration.ofSeconds(60));
        // per record: its event time (set when it was sent) to processed_at (taken as its batch is folded, just
        // before the batch's statements and commit)
        double[] latency = latencyPercentiles(0);
        double[] settled = latencyPercentiles(LATENCY_SETTLING_SECONDS);
        StringBuilder profile = new StringBuilder();
        try (Connection db = DriverManager.getConnection(postgres.jdbcUrl(), EmbeddedPostgresql.USER,
                EmbeddedPostgresql.USER); Statement statement = db.createStatement();
                ResultSet rows = statement.executeQuery("""
                        SELECT floor(extract(epoch FROM created_at - (SELECT min(created_at) FROM orders
                                                              WHERE order_id LIKE 'l-%')) / 5) AS slice,
                               percentile_disc(0.5) WITHIN GROUP
                                   (ORDER BY extract(epoch FROM processed_at - created_at) * 1000) AS p50
                          FROM orders WHERE order_id LIKE 'l-%' GROUP BY slice ORDER BY slice""")) {
            while (rows.next()) {
                profile.append(String.format(Locale.ROOT, " %.0f", rows.getDouble(2)));
            }
        }
        log("latency run %d: p50 ms of each 5 s of sending:%s", run, profile);
        String label = "latency at " + (int) (share * 100) + "% (" + rate + "/s)";
        add(label + " p50 ms", latency[0]);
        add(label + " p99 ms", latency[1]);
        add(label + " max ms", latency[2]);
        String after = label + " after the first " + LATENCY_SETTLING_SECONDS + " s";
        add(after + " p50 ms", settled[0]);
        add(after + " p99 ms", settled[1]);
        add(after + " max ms", settled[2]);
        log("latency run %d at %d/s (%d sent): p50 %.1f ms, p99 %.1f ms, max %.1f ms; after the first %d s: p50 %.1f"
                + " ms, p99 %.1f ms, max %.1f ms", run, rate, sent - WARM_UP_ORDERS, latency[0], latency[1],
                latency[2], LATENCY_SETTLING_SECONDS, settled[0], settled[1], settled[2]);
    }

    /** p50, p99 and max of the measured orders' event time to processed_at, leaving out their first seconds. */
    private double[] latencyPercentiles(int leftOutSeconds) throws Exception {
        double[] latency = new double[3];
        try (Connection db = DriverManager.getConnection(postgres.jdbcUrl(), EmbeddedPostgresql.USER,
                EmbeddedPostgresql.USER); PreparedStatement statement = db.prepareStatement("""
                        SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY l), percentile_disc(0.99) WITHIN GROUP
                               (ORDER BY l), max(l)
                          FROM (SELECT extract(epoch FROM processed_at - created_at) * 1000 AS l FROM orders
                                 WHERE order_id LIKE 'l-%'
                                   AND created_at >= (SELECT min(created_at) FROM orders WHERE order_id LIKE 'l-%')
                                                     + make_interval(secs => ?)) t""")) {
            statement.setInt(1, leftOutSeconds);
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                for (int k = 0; k < 3; k++) {
                    latency[k] = rows.getDouble(k + 1);
                }
            }
        }
        return latency;
    }

    // --- POST-to-readable (the command API) -----------------------------------------------------------------------

    /** {@link CommandLatency} on its own broker, database and service: one client in sequence, then 8 at once. */
    private void commands(int run) throws Exception {
        Map<String, String> settings = new java.util.HashMap<>();
        System.getProperties().stringPropertyNames().stream().filter(key -> key.startsWith("bench.service."))
                .forEach(key -> settings.put(key.substring("bench.service.".length()), System.getProperty(key)));
        CommandLatency.Result result = CommandLatency.measure(commandsInSequence, commandClients,
                Duration.ofSeconds(commandSeconds), settings);
        add("POST-to-readable, 1 client, p50 ms", CommandLatency.Result.p(result.sequentialReadable(), 0.5));
        add("POST-to-readable, 1 client, p99 ms", CommandLatency.Result.p(result.sequentialReadable(), 0.99));
        String clients = "POST-to-readable, " + commandClients + " clients, ";
        add(clients + "p50 ms", CommandLatency.Result.p(result.readable(), 0.5));
        add(clients + "p99 ms", CommandLatency.Result.p(result.readable(), 0.99));
        add(clients + "commands/s", result.readable().length / (double) commandSeconds);
        log("commands run %d: POST-to-readable p99 %.1f ms (1 client), %.1f ms (%d clients, %d commands)", run,
                CommandLatency.Result.p(result.sequentialReadable(), 0.99), CommandLatency.Result.p(result.readable(),
                        0.99), commandClients, result.readable().length);
    }

    // --- the table ------------------------------------------------------------------------------------------------

    private void printTable(double unused) throws IOException {
        StringBuilder out = new StringBuilder();
        out.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores, ")
                .append(memTotalGib()).append(" GiB, ").append(System.getProperty("java.vm.name")).append(' ')
                .append(System.getProperty("java.version")).append("; ").append(LocalDate.now()).append("; ")
                .append(orders).append(" orders over ").append(PARTITIONS).append(" partitions; parts ")
                .append(String.join(",", parts)).append("; median of ").append(runs).append(" runs [min - max]\n\n");
        out.append("| figure | median [min - max] | ratio |\n|---|---|---|\n");
        for (Map.Entry<String, List<Double>> figure : figures.entrySet()) {
            String ratio = switch (figure.getKey()) {
                case "readside records/s", "readside cpu-s per 1000", "readside peak rss MiB",
                        "readside database cpu-s per 1000" -> {
                    String what = figure.getKey().substring("readside ".length());
                    yield String.join(", ", java.util.stream.Stream.of(
                            ratio(figure.getKey(), "loop A " + what, "loop A"),
                            ratio(figure.getKey(), "loop B " + what, "loop B"),
                            ratio(figure.getKey(), "loop B at " + LOOP_B_POLL_SIZES[1] + " a poll " + what,
                                    "loop B at " + LOOP_B_POLL_SIZES[1])).filter(r -> !r.isEmpty()).toList());
                }
                case "GET /orders/{id} in the first 30 s after the drain requests/s" -> ratio(figure.getKey(),
                        "pgbench select-only tps", "pgbench");
                case "minimal Vert.x reads requests/s" -> ratio(figure.getKey(), "pgbench select-only tps",
                        "pgbench");
                case "GET /orders/{id} requests/s" -> ratio(figure.getKey(), "pgbench select-only tps", "pgbench");
                case "GET /orders/{id} via a replica requests/s" -> ratio(figure.getKey(),
                        "GET /orders/{id} requests/s", "on the primary");
                default -> "";
            };
            List<Double> values = figure.getValue();
            out.append(String.format(Locale.ROOT, "| %s | %s [%s - %s] | %s |%n", figure.getKey(),
                    format(median(figure.getKey())), format(Collections.min(values)), format(Collections.max(values)),
                    ratio));
        }
        for (Map.Entry<String, String> profile : profiles.entrySet()) {
            if (!profile.getKey().endsWith(", run " + runs)) {
                continue; // the last run's only; each run's is in target/bench/*.md
            }
            out.append(profile.getKey().startsWith("PostgreSQL") ? "\n### " : "\n### Flight recording: ")
                    .append(profile.getKey()).append("\n\n").append(profile.getValue());
        }
        System.out.println();
        System.out.println(out);
        Files.writeString(WORK.resolve("results.md"), out);
    }

    /** "0.50 × loop A", or "" when either figure was not measured. */
    private String ratio(String figure, String of, String name) {
        if (!figures.containsKey(figure) || !figures.containsKey(of)) {
            return "";
        }
        return String.format(Locale.ROOT, "%.2f × %s", median(figure) / median(of), name);
    }

    private static String format(double value) {
        if (value >= 100 || value == Math.rint(value)) {
            return String.format(Locale.ROOT, "%,.0f", value);
        }
        return String.format(Locale.ROOT, value < 1 ? "%.3f" : "%.2f", value);
    }

    private void add(String figure, double value) {
        figures.computeIfAbsent(figure, k -> new ArrayList<>()).add(value);
    }

    private double median(String figure) {
        List<Double> values = new ArrayList<>(figures.get(figure));
        Collections.sort(values);
        int n = values.size();
        return n % 2 == 1 ? values.get(n / 2) : (values.get(n / 2 - 1) + values.get(n / 2)) / 2;
    }

    // --- plumbing -------------------------------------------------------------------------------------------------

    /** An empty database; with {@code migrate}, the service's schema (Readside migrates itself at start). */
    private void resetDatabase(boolean migrate) throws Exception {
        try (Connection db = DriverManager.getConnection(postgres.jdbcUrl(), EmbeddedPostgresql.USER,
                EmbeddedPostgresql.USER); Statement statement = db.createStatement()) {
            statement.execute("DROP SCHEMA public CASCADE");
            statement.execute("CREATE SCHEMA public");
            statement.execute("CHECKPOINT");
        }
        if (migrate) {
            Flyway.configure().dataSource(postgres.jdbcUrl(), EmbeddedPostgresql.USER, EmbeddedPostgresql.USER)
                    .locations("classpath:db/migration").load().migrate();
        }
    }

    private long applied(String group, String topic) {
        return watched("SELECT coalesce(sum(next_offset), 0) FROM projection_positions WHERE consumer_group = '" + group
                + "' AND topic = '" + topic + "'");
    }

    private long endOffsets(String topic) throws Exception {
        try (Admin admin = admin()) {
            if (!admin.listTopics().names().get().contains(topic)) {
                return 0;
            }
            int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int p = 0; p < partitions; p++) {
                latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            return admin.listOffsets(latest).all().get().values().stream().mapToLong(info -> info.offset()).sum();
        }
    }

    /**
     * PostgreSQL's CPU in clock ticks: the postmaster's own and its reaped children's (backends that exited), and every
     * live child's (backends, checkpointer, WAL writer), from /proc; the work a drain makes the database do.
     */
    private static long databaseCpuTicks() throws IOException {
        long postmaster = Long.parseLong(Files.readAllLines(PRIMARY_DATA.resolve("postmaster.pid")).get(0).trim());
        long ticks = 0;
        try (var processes = Files.list(Path.of("/proc"))) {
            for (Path process : processes.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String[] fields = stat(process);
                    long pid = Long.parseLong(process.getFileName().toString());
                    if (pid == postmaster || Long.parseLong(fields[1]) == postmaster) {
                        ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]) + Long.parseLong(fields[13])
                                + Long.parseLong(fields[14]);
                    }
                } catch (IOException | RuntimeException gone) {
                    // a process that exited while the list was read: its ticks are its parent's now
                }
            }
        }
        return ticks;
    }

    /** A process's /proc stat fields after its name: [1] its parent, [11..14] utime, stime, cutime, cstime. */
    private static String[] stat(Path process) throws IOException {
        String stat = Files.readString(process.resolve("stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    /** utime + stime in clock ticks (1/100 s) and VmHWM in KiB, from /proc. */
    private static long[] cpuTicksAndPeakRss(long pid) throws IOException {
        String[] fields = stat(Path.of("/proc", Long.toString(pid)));
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        long peak = Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(line -> line.startsWith("VmHWM:")).mapToLong(line -> Long.parseLong(line.replaceAll("[^0-9]", "")))
                .findFirst().orElse(0);
        return new long[] { ticks, peak };
    }

    private static String command(List<String> command, Map<String, String> environment) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
        }
        return output;
    }

    private static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("no '" + regex + "' in:\n" + text);
        }
        return Double.parseDouble(m.group(1));
    }

    /** wrk's latency distribution line, e.g. "99%    3.21ms", in milliseconds. */
    private static double millis(String wrkOutput, String percentile) {
        Matcher m = Pattern.compile("\\s" + Pattern.quote(percentile) + "\\s+([0-9.]+)(us|ms|s)").matcher(wrkOutput);
        if (!m.find()) {
            throw new IllegalStateException("no " + percentile + " in:\n" + wrkOutput);
        }
        double value = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> value / 1000;
            case "s" -> value * 1000;
            default -> value;
        };
    }

    private KafkaProducer<String, String> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.BATCH_SIZE_CONFIG, 262_144, ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"),
                new StringSerializer(), new StringSerializer());
    }

    private Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    }

    private static long memTotalGib() throws IOException {
        return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(0) / 1024 / 1024;
    }

    private static void log(String format, Object... args) {
        System.out.printf("[bench] " + format + "%n", args);
    }
}
