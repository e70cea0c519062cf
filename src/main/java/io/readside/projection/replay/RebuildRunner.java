package io.readside.projection.replay;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.readside.projection.replay.Rebuilds.RebuildStatus;
import io.readside.projection.replay.Rebuilds.State;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Runs one rebuild at a time across all instances: a session-level advisory lock ({@link Rebuilds#LOCK_KEY}) held on
 * a pool connection for the whole rebuild, and on this instance its own thread ({@code readside-rebuild}). Writes
 * the run's status to PostgreSQL ({@link RebuildStatuses}, on thread {@code readside-rebuild-status}) at each state
 * change and, while it runs, about every {@link #PROGRESS_EVERY} when it moved, never from the replay loop, so that
 * every instance answers for it. Keeps the latest {@link Run} of each read model on this instance for the gauges
 * {@code readside.rebuild.replayed.records}, {@code readside.rebuild.remaining.records} and
 * {@code readside.rebuild.running} (tag {@code read_model}). Logs under the category of {@link Rebuilds}.
 */
@ApplicationScoped
class RebuildRunner {

    private static final Logger LOG = Logger.getLogger(Rebuilds.class);
    static final Duration PROGRESS_EVERY = Duration.ofSeconds(1);
    /** This instance, as a status names the one that runs a rebuild: the host (a pod's name) and the process id. */
    static final String INSTANCE = hostName() + " (pid " + ProcessHandle.current().pid() + ")";

    static final String TRY_LOCK = "SELECT pg_try_advisory_lock($1), pg_backend_pid()";

    @Inject
    Pool pool;
    @Inject
    MeterRegistry registry;
    @Inject
    RebuildStatuses statuses;

    private final ExecutorService worker = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "readside-rebuild");
        thread.setDaemon(true);
        return thread;
    });
    /** every write of a status, so that they reach the table in the order of the snapshots they carry */
    private final ScheduledExecutorService recorder = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "readside-rebuild-status");
        thread.setDaemon(true);
        return thread;
    });
    private final Map<String, Run> runs = new ConcurrentHashMap<>();
    private final Map<String, Boolean> gauges = new ConcurrentHashMap<>();
    private volatile Run active; // from the lock taken to the lock released
    private List<Object> recorded; // the recorder thread's own

    /** The latest run of the read model on any instance, from PostgreSQL; empty when none is recorded. */
    Optional<RebuildStatus> latest(String readModel) {
        return statuses.latest(readModel);
    }

    /**
     * Takes the lock, records a new {@link Run} of {@code model} and runs {@code rebuild} on it in the background;
     * the run ends DONE when it returns, FAILED (with the exception's text, logged at ERROR) when it throws. The end
     * is recorded before the lock is released.
     *
     * @return the run, just started
     * @throws IllegalStateException when a rebuild is running (here or on another instance)
     */
    Run launch(Replayable<?> model, long rowsBeforeLogStart, Map<Integer, Long> logStarts, Consumer<Run> rebuild) {
        String readModel = model.readModel();
        synchronized (runs) {
            if (active != null) {
                throw new IllegalStateException("a rebuild is running on this instance");
            }
            SqlConnection lock = pool.getConnection().await().atMost(Duration.ofSeconds(10));
            Row locked = lock.preparedQuery(TRY_LOCK).execute(Tuple.of(Rebuilds.LOCK_KEY))
                    .await().atMost(Duration.ofSeconds(10)).iterator().next();
            if (!locked.getBoolean(0)) {
                lock.close().await().indefinitely();
                throw new IllegalStateException("a rebuild is running on another instance");
            }
            Run run = new Run(model, INSTANCE, rowsBeforeLogStart, logStarts, this::record);
            try {
                statuses.started(run, locked.getInteger(1));
            } catch (RuntimeException e) {
                unlock(lock).await().indefinitely();
                throw e;
            }
            active = run;
            runs.put(readModel, run);
            registerGauges(readModel);
            ScheduledFuture<?> progress = recorder.scheduleWithFixedDelay(() -> recordIfMoved(run),
                    PROGRESS_EVERY.toMillis(), PROGRESS_EVERY.toMillis(), TimeUnit.MILLISECONDS);
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
                    progress.cancel(false);
                    run.finish(end, error); // recorded while the lock is held: never read as abandoned
                    // the connection goes back to the pool, its session (and a session lock) live on: unlock first
                    unlock(lock).await().indefinitely();
                    active = null;
                }
            });
            return run;
        }
    }

    /** Writes the run's status now (a state change), on the recorder's thread; waits at most a bounded time. */
    private void record(Run run) {
        try {
            Future<?> written = recorder.submit(() -> write(run));
            written.get(RebuildStatuses.CALL_TIMEOUT.toMillis() + 1_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) { // also the recorder stopped (shutting down): a reader then sees it abandoned
            LOG.warnf("the status of the rebuild of %s (%s) could not be written: %s", run.model.readModel(),
                    run.state, e);
        }
    }

    /** Writes the run's status if its progress moved since the last write. */
    private void recordIfMoved(Run run) {
        if (!progress(run).equals(recorded)) {
            try {
                write(run);
            } catch (RuntimeException e) {
                LOG.debugf("the progress of the rebuild of %s could not be written: %s", run.model.readModel(), e);
            }
        }
    }

    private void write(Run run) {
        List<Object> now = progress(run);
        statuses.progressed(run);
        recorded = now;
    }

    private static List<Object> progress(Run run) {
        return Arrays.asList(run.id, run.state, run.replayed.get(), run.invalid.get(), run.remaining, run.live,
                Map.copyOf(run.rebuilt), run.switchMillis);
    }

    private static Uni<Void> unlock(SqlConnection lock) {
        return lock.preparedQuery("SELECT pg_advisory_unlock($1)").execute(Tuple.of(Rebuilds.LOCK_KEY))
                .eventually(lock::close).replaceWithVoid();
    }

    private void registerGauges(String readModel) {
        gauges.computeIfAbsent(readModel, name -> {
            Gauge.builder("readside.rebuild.replayed.records", runs, r -> r.get(name).replayed.get())
                    .tag("read_model", name).description("Records replayed by the latest rebuild on this instance")
                    .register(registry);
            Gauge.builder("readside.rebuild.remaining.records", runs, r -> r.get(name).remaining)
                    .tag("read_model", name).description("Records the latest rebuild on this instance has still to "
                            + "replay")
                    .register(registry);
            Gauge.builder("readside.rebuild.running", runs, r -> r.get(name).running() ? 1 : 0)
                    .tag("read_model", name).description("1 while a rebuild runs on this instance")
                    .register(registry);
            return true;
        });
    }

    private static String hostName() {
        String host = System.getenv("HOSTNAME"); // a pod's name in Kubernetes
        if (host != null && !host.isBlank()) {
            return host;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "unknown host";
        }
    }

    @PreDestroy
    void stop() {
        worker.shutdownNow();
        recorder.shutdownNow();
    }
}
