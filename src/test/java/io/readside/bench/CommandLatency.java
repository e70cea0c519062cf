package io.readside.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

import io.readside.dev.EmbeddedKafka;
import io.readside.dev.EmbeddedPostgresql;
import io.readside.security.Roles;
import io.readside.testing.LocalHost;
import io.readside.testing.ServiceProcess;
import io.readside.testing.Tokens;

/**
 * POST-to-readable: how long from sending {@code POST /orders} until {@code GET /orders/{id}} with the returned
 * consistency token answers 200, through the outbox, the relay, the broker and the orders projector. The packaged
 * jar as a process ({@code -Xmx256m}) on an embedded broker and PostgreSQL; one client in sequence, then
 * {@code bench.clients} clients at once. Run by {@code bench/commands.sh}; prints the figures.
 */
public final class CommandLatency {

    private static final Path WORK = Path.of("target", "bench-commands");
    private static final int SEQUENTIAL = Integer.getInteger("bench.commands", 2_000);
    private static final int WARM_UP = 500;
    private static final int CLIENTS = Integer.getInteger("bench.clients", 8);
    private static final Duration CONCURRENT_FOR = Duration.ofSeconds(Integer.getInteger("bench.seconds", 30));
    /** A service that places and reads orders for any user; each request verifies it (part of what is measured). */
    private static final String TOKEN = Tokens.bearer(Tokens.service("bench-checkout", Roles.ORDERS_WRITER,
            Roles.READER));
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private CommandLatency() {
    }

    public static void main(String[] args) throws Exception {
        Result result = measure(SEQUENTIAL, CLIENTS, CONCURRENT_FOR, Map.of());
        System.out.printf("%nPOST-to-readable, one client, %d commands in sequence:%n", SEQUENTIAL);
        print("POST /orders -> 202", result.sequentialPosts());
        print("POST sent -> GET with token 200", result.sequentialReadable());
        System.out.printf("%n%d clients for %d s: %d commands, %.0f commands/s%n", CLIENTS,
                CONCURRENT_FOR.toSeconds(), result.posts().length, result.posts().length
                        / (double) CONCURRENT_FOR.toSeconds());
        print("POST /orders -> 202", result.posts());
        print("POST sent -> GET with token 200", result.readable());
        System.out.printf("%nmachine: %d cores, Java %s; service -Xmx256m; broker, PostgreSQL, service and "
                + "clients on the same machine%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"));
    }

    /** Microseconds per command: one client's POST and POST-to-readable, then those of the clients at once. */
    record Result(long[] sequentialPosts, long[] sequentialReadable, long[] posts, long[] readable) {

        static double p(long[] micros, double quantile) {
            long[] sorted = micros.clone();
            Arrays.sort(sorted);
            return at(sorted, quantile);
        }
    }

    /**
     * A fresh broker, database and service (with {@code settings} too); {@code sequential} commands by one client, then
     * {@code clients}.
     */
    static Result measure(int sequentialCommands, int clientCount, Duration concurrentFor, Map<String, String> settings)
            throws Exception {
        LocalHost.deleteRecursively(WORK);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(WORK.resolve("kafka"), 0, 0, 4);
                EmbeddedPostgresql postgres = EmbeddedPostgresql.start(WORK.resolve("postgres").resolve("data"), 0, false)) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    kafka.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("orders", 4, (short) 1),
                        new NewTopic("payment-requests", 4, (short) 1))).all().get();
            }
            int port = LocalHost.freePort();
            Map<String, String> properties = ServiceProcess.connectedTo(kafka.bootstrapServers(), postgres.port());
            properties.putAll(settings);
            ServiceProcess service = ServiceProcess.start("readside", port, properties, WORK)
                    .awaitReady(Duration.ofSeconds(120));
            try {
                String base = "http://localhost:" + port;
                for (int i = 0; i < WARM_UP; i++) {
                    postThenRead(base);
                }
                long[][] sequential = new long[2][sequentialCommands];
                for (int i = 0; i < sequentialCommands; i++) {
                    long[] one = postThenRead(base);
                    sequential[0][i] = one[0];
                    sequential[1][i] = one[1];
                }
                ExecutorService clients = Executors.newFixedThreadPool(clientCount);
                long end = System.nanoTime() + concurrentFor.toNanos();
                List<Future<List<long[]>>> results = new ArrayList<>();
                for (int c = 0; c < clientCount; c++) {
                    results.add(clients.submit(() -> {
                        List<long[]> mine = new ArrayList<>();
                        while (System.nanoTime() < end) {
                            mine.add(postThenRead(base));
                        }
                        return mine;
                    }));
                }
                List<long[]> all = new ArrayList<>();
                try {
                    for (Future<List<long[]>> result : results) {
                        all.addAll(result.get());
                    }
                } finally {
                    clients.shutdownNow(); // a failed client must not leave the pool's threads keeping the JVM up
                }
                return new Result(sequential[0], sequential[1], all.stream().mapToLong(one -> one[0]).toArray(),
                        all.stream().mapToLong(one -> one[1]).toArray());
            } finally {
                service.terminate(Duration.ofSeconds(60));
            }
        }
    }

    /** {POST latency, POST-to-readable}, in microseconds. */
    private static long[] postThenRead(String base) throws Exception {
        String body = "{\"user_id\":" + ThreadLocalRandom.current().nextInt(1, 5_000)
                + ",\"category\":\"books\",\"items\":[{\"sku\":\"b-1\",\"qty\":2,\"price\":\"6.25\"}]}";
        long start = System.nanoTime();
        HttpResponse<String> accepted = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/orders"))
                .header("Content-Type", "application/json").header("Authorization", TOKEN).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        long posted = System.nanoTime();
        if (accepted.statusCode() != 202) {
            throw new IllegalStateException("POST answered " + accepted.statusCode() + ": " + accepted.body());
        }
        String location = accepted.headers().firstValue("Location").orElseThrow();
        String token = accepted.headers().firstValue("X-Consistency-Token").orElseThrow();
        HttpResponse<String> read = HTTP.send(HttpRequest.newBuilder(URI.create(base + URI.create(location).getPath()))
                .header("X-Consistency-Token", token).header("Authorization", TOKEN).build(), HttpResponse.BodyHandlers.ofString());
        long readable = System.nanoTime();
        if (read.statusCode() != 200) {
            throw new IllegalStateException("GET with token answered " + read.statusCode() + ": " + read.body());
        }
        return new long[] { (posted - start) / 1_000, (readable - start) / 1_000 };
    }

    private static void print(String what, long[] micros) {
        long[] sorted = micros.clone();
        Arrays.sort(sorted);
        System.out.printf("  %-34s p50 %6.1f ms  p90 %6.1f ms  p99 %6.1f ms  max %6.1f ms%n", what,
                at(sorted, 0.50), at(sorted, 0.90), at(sorted, 0.99), sorted[sorted.length - 1] / 1000.0);
    }

    private static double at(long[] sorted, double quantile) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)] / 1000.0;
    }
}
