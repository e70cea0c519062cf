package io.readside.projection.replay;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.readside.projection.replay.Rebuilds.State;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Runs one rebuild at a time across all instances: a session-level advisory lock ({@link Rebuilds#LOCK_KEY}) held on
 * a pool connection for the whole rebuild, and on this instance its own thread ({@code readside-rebuild}). Keeps the
 * latest {@link Run} of each read model, for the status endpoint and the gauges {@code readside.rebuild.replayed.records},
 * {@code readside.rebuild.remaining.records} and {@code readside.rebuild.running} (tag {@code read_model}). Logs under
 * the category of {@link Rebuilds}.
 */
@ApplicationScoped
class RebuildRunner {

    private static final Logger LOG = Logger.getLogger(Rebuilds.class);

    @Inject
    Pool pool;
    @Inject
    MeterRegistry registry;

    private final ExecutorService worker = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "readside-rebuild");
        thread.setDaemon(true);
        return thread;
    });
    private final Map<String, Run> runs = new ConcurrentHashMap<>();
    private final Map<String, Boolean> gauges = new ConcurrentHashMap<>();

    /** The latest run of the read model on this instance, running or ended; empty when none since start. */
    Optional<Run> latest(String readModel) {
        return Optional.ofNullable(runs.get(readModel));
    }

    /**
     * Takes the lock and runs {@code rebuild} in the background on a new {@link Run} of {@code model}; the run ends
     * DONE when it returns, FAILED (with the exception's text, logged at ERROR) when it throws. The lock is released
     * once it ended.
     *
     * @return the run, just started
     * @throws IllegalStateException when a rebuild is running (here or on another instance)
     */
    Run launch(Replayable<?> model, long rowsBeforeLogStart, Map<Integer, Long> logStarts, Consumer<Run> rebuild) {
        String readModel = model.readModel();
        synchronized (runs) {
            if (runs.values().stream().anyMatch(Run::running)) {
                throw new IllegalStateException("a rebuild is running on this instance");
            }
            SqlConnection lock = pool.getConnection().await().atMost(Duration.ofSeconds(10));
            boolean locked = lock.preparedQuery("SELECT pg_try_advisory_lock($1)")
                    .execute(Tuple.of(Rebuilds.LOCK_KEY)).await().atMost(Duration.ofSeconds(10)).iterator().next()
                    .getBoolean(0);
            if (!locked) {
                lock.close().await().indefinitely();
                throw new IllegalStateException("a rebuild is running on another instance");
            }
            Run run = new Run(model, rowsBeforeLogStart, logStarts);
            runs.put(readModel, run);
            registerGauges(readModel);
            worker.submit(() -> {
                State end = State.FAILED;
                String error = null;
                try {
                    rebuild.accept(run);
                    end = State.DONE;
                } catch (Exception e) {
                    error = e.toString();
                    LOG.errorf(e, "rebuild of %s failed; the live read model is unchanged", readModel);
                } finally {
                    // the connection goes back to the pool, its session (and a session lock) live on: unlock first
                    unlock(lock).await().indefinitely();
                }
                run.finish(end, error);
            });
            return run;
        }
    }

    private static Uni<Void> unlock(SqlConnection lock) {
        return lock.preparedQuery("SELECT pg_advisory_unlock($1)").execute(Tuple.of(Rebuilds.LOCK_KEY))
                .eventually(lock::close).replaceWithVoid();
    }

    private void registerGauges(String readModel) {
        gauges.computeIfAbsent(readModel, name -> {
            Gauge.builder("readside.rebuild.replayed.records", runs, r -> r.get(name).replayed.get())
                    .tag("read_model", name).description("Records replayed by the latest rebuild").register(registry);
            Gauge.builder("readside.rebuild.remaining.records", runs, r -> r.get(name).remaining)
                    .tag("read_model", name).description("Records the latest rebuild has still to replay")
                    .register(registry);
            Gauge.builder("readside.rebuild.running", runs, r -> r.get(name).running() ? 1 : 0)
                    .tag("read_model", name).description("1 while a rebuild runs").register(registry);
            return true;
        });
    }

    @PreDestroy
    void stop() {
        worker.shutdownNow();
    }
}
