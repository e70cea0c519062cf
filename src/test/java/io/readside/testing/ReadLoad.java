package io.readside.testing;

import static io.restassured.RestAssured.given;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import io.restassured.response.Response;

/** Clients reading one path again and again until closed, keeping every answer that was not a 200. */
public final class ReadLoad implements AutoCloseable {

    private final AtomicBoolean loading = new AtomicBoolean(true);
    private final AtomicInteger answered = new AtomicInteger();
    private final ConcurrentLinkedQueue<String> failed = new ConcurrentLinkedQueue<>();
    private final ExecutorService clients;
    private final List<CompletableFuture<Void>> load = new ArrayList<>();

    private ReadLoad(int clients, String path) {
        this.clients = Executors.newFixedThreadPool(clients);
        for (int i = 0; i < clients; i++) {
            load.add(CompletableFuture.runAsync(() -> {
                while (loading.get()) {
                    Response answer = given().get(path);
                    if (answer.statusCode() != 200) {
                        failed.add(answer.statusCode() + " " + answer.asString());
                    }
                    answered.incrementAndGet();
                }
            }, this.clients));
        }
    }

    public static ReadLoad start(int clients, String path) {
        return new ReadLoad(clients, path);
    }

    /** Answers so far, of any status. */
    public int answered() {
        return answered.get();
    }

    /** The answers that were not a 200, as "status body". */
    public List<String> failed() {
        return List.copyOf(failed);
    }

    /** Stops the clients and waits for their last requests. */
    @Override
    public void close() throws Exception {
        loading.set(false);
        try {
            CompletableFuture.allOf(load.toArray(CompletableFuture[]::new)).get(Duration.ofMinutes(2).toSeconds(),
                    TimeUnit.SECONDS);
        } finally {
            clients.shutdownNow();
        }
    }
}
