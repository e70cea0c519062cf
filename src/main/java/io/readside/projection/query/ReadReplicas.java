package io.readside.projection.query;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import io.quarkus.scheduler.Scheduled;
import io.readside.values.Quote;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.PoolOptions;

/**
 * The PostgreSQL streaming replicas that GET queries read from ({@code readside.query.replicas}; none: everything on
 * the primary, as before). Every {@code readside.query.replica-check-every} it samples the primary's WAL position and
 * each replica's replay position: a replica more than {@code readside.query.max-replica-lag} behind ({@link ReplayLag}),
 * unreachable, or not a standby leaves the rotation until a check finds it caught up. Each change is logged; the
 * gauges {@code readside_query_replica_lag_seconds} and {@code readside_query_replica_in_rotation} and the wellness
 * check {@code readside-read-replicas} ({@link ReadReplicasCheck}) (DOWN while none is usable: reads are on the primary) show it.
 */
@Startup // the gauges exist from the start
@ApplicationScoped
public class ReadReplicas {

    private static final Logger LOG = Logger.getLogger(ReadReplicas.class);

    /** The primary's durable WAL position: what a replica can have received. */
    static final String PRIMARY_LSN = "SELECT pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint";
    /**
     * The cluster a server belongs to: a standby has its primary's system identifier, and WAL positions of another
     * cluster mean nothing here. Some managed databases refuse it to their users: then it is not checked.
     */
    static final String SYSTEM = "SELECT system_identifier FROM pg_control_system()";
    /** A replica's replay position, whether it is a standby, and the age of the last commit it replayed. */
    static final String REPLICA_STATE = """
            SELECT pg_is_in_recovery() AS standby,
                   pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint AS replay_lsn,
                   extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS since_replayed_commit""";

    /** Why a replica is out of the rotation before its first check. */
    static final String NOT_CHECKED = "not checked yet";

    @Inject
    Pool primary;
    @Inject
    Vertx vertx;
    @Inject
    MeterRegistry registry;

    @ConfigProperty(name = "readside.query.replicas")
    Optional<List<String>> urls;
    @ConfigProperty(name = "readside.query.max-replica-lag")
    volatile Duration maxLag;
    @ConfigProperty(name = "readside.query.replica-timeout")
    Duration timeout;
    @ConfigProperty(name = "readside.query.replica-pool-size")
    int poolSize;
    @ConfigProperty(name = "quarkus.datasource.username")
    String user;
    @ConfigProperty(name = "quarkus.datasource.password")
    String password;

    private final List<Replica> replicas = new ArrayList<>();
    /** The primary's system identifier once read (empty: its users may not read it); null until then. */
    private volatile Optional<Long> system;
    private final ReplayLag lag = new ReplayLag();
    /** What a replica's session must have replayed to answer a read without a token ({@link ReplayLag#floor}). */
    private volatile long floor = -1;
    private final AtomicInteger next = new AtomicInteger();

    @PostConstruct
    void open() {
        ReplicaUrls.parse(urls.orElse(List.of()), user, password, LOG::warn).forEach((name, options) -> {
            options.setConnectTimeout((int) timeout.toMillis()).setCachePreparedStatements(true)
                    .setReconnectAttempts(0).setTcpKeepAlive(true);
            int index = replicas.size();
            Replica replica = new Replica(name, () -> pool(options, poolSize, "readside-replica-" + index),
                    () -> pool(options, 1, "readside-replica-checks-" + index));
            replicas.add(replica);
            Gauge.builder("readside.query.replica.lag.seconds", replica, Replica::lagSeconds)
                    .description("How far a read replica's replay is behind the primary (NaN: not measured)")
                    .tag("replica", replica.name()).register(registry);
            Gauge.builder("readside.query.replica.in.rotation", replica, r -> r.inRotation() ? 1 : 0)
                    .description("1 while GET queries may read from this replica").tag("replica", replica.name())
                    .register(registry);
        });
        Gauge.builder("readside.query.replicas", replicas, List::size)
                .description("Read replicas configured (readside.query.replicas)").register(registry);
        Gauge.builder("readside.query.replicas.in.rotation", replicas,
                all -> all.stream().filter(Replica::inRotation).count())
                .description("Read replicas GET queries may read from now").register(registry);
        Gauge.builder("readside.query.replica.max.lag.seconds", replicas,
                all -> all.stream().mapToDouble(Replica::lagSeconds).filter(lag -> !Double.isNaN(lag)).max()
                        .orElse(0))
                .description("The largest replay lag among the read replicas measured (0: none)").register(registry);
        if (!replicas.isEmpty()) {
            LOG.infof("GET queries read from %d replica(s): %s (out of the rotation until their first check)",
                    replicas.size(), replicas.stream().map(Replica::name).toList());
        }
    }

    @PreDestroy
    void close() {
        replicas.forEach(Replica::close);
    }

    private Pool pool(PgConnectOptions options, int size, String name) {
        return Pool.newInstance(PgBuilder.pool().with(new PoolOptions().setMaxSize(size).setName(name)
                .setConnectionTimeout((int) timeout.toMillis()).setConnectionTimeoutUnit(TimeUnit.MILLISECONDS))
                .connectingTo(options).using(vertx).build());
    }

    public boolean configured() {
        return !replicas.isEmpty();
    }

    public List<Replica> all() {
        return List.copyOf(replicas);
    }

    /**
     * The WAL position (bytes from 0/0) a replica's session must have replayed to answer a read without a token: the
     * primary's position {@code max-replica-lag} ago, as of the latest check; -1 before the first.
     */
    public long floor() {
        return floor;
    }

    /** The next replica in the rotation (round robin), or empty when none is usable. */
    public Optional<Replica> next() {
        int size = replicas.size();
        for (int i = 0; i < size; i++) {
            Replica replica = replicas.get(Math.floorMod(next.getAndIncrement(), size));
            if (replica.inRotation()) {
                return Optional.of(replica);
            }
        }
        return Optional.empty();
    }

    /** A query on this replica failed for lack of it (not an SQL error): out until a check finds it again. */
    void unreachable(Replica replica, Throwable failure) {
        rotate(replica, "unreachable: " + Quote.of(failure.toString()));
    }

    @Scheduled(every = "${readside.query.replica-check-every}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> check() {
        if (replicas.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        Uni<Void> identity = system != null ? Uni.createFrom().voidItem() : system(primary).invoke(id -> {
            system = id;
            if (id.isEmpty()) {
                LOG.info("the primary's system identifier may not be read (pg_control_system() refused): the "
                        + "replicas are not checked to be standbys of it");
            }
        }).onFailure().recoverWithNull().replaceWithVoid();
        return identity.chain(() -> primary.query(PRIMARY_LSN).execute().ifNoItem().after(timeout).fail())
                .invoke(rows -> {
                    long now = System.nanoTime();
                    lag.sample(now, rows.iterator().next().getLong(0));
                    floor = lag.floor(now, maxLag.toNanos());
                })
                .onFailure().invoke(e -> LOG.debugf(e, "the primary's WAL position could not be read"))
                .onFailure().recoverWithNull()
                .chain(() -> Uni.join().all(replicas.stream().map(this::check).toList()).andCollectFailures())
                .invoke(() -> replicas.stream().filter(r -> !Double.isNaN(r.lagSeconds)).mapToLong(r -> r.replayLsn).min()
                        .ifPresent(lag::forgetReplayed))
                .replaceWithVoid();
    }

    private Uni<Void> check(Replica replica) {
        Optional<Long> cluster = system;
        Pool checks = replica.checks;
        return checks.query(REPLICA_STATE).execute().ifNoItem().after(timeout).fail()
                .chain(rows -> cluster == null || cluster.isEmpty() ? Uni.createFrom().item(rows.iterator().next())
                        : system(checks).map(id -> {
                            if (id.isPresent() && !id.equals(cluster)) {
                                throw new OtherCluster();
                            }
                            return rows.iterator().next();
                        }))
                .invoke(row -> {
                    if (!row.getBoolean("standby")) {
                        replica.lagSeconds = Double.NaN;
                        rotate(replica, "not a standby (pg_is_in_recovery() is false): it may be a promoted or "
                                + "unrelated server");
                        return;
                    }
                    replica.replayLsn = Math.max(replica.replayLsn, row.getLong("replay_lsn"));
                    double behind = lag.secondsBehind(System.nanoTime(), row.getLong("replay_lsn"),
                            row.getDouble("since_replayed_commit"));
                    replica.lagSeconds = behind;
                    rotate(replica, behind * 1000 > maxLag.toMillis() ? String.format(Locale.ROOT,
                            "lagging: %.1f s behind the primary (readside.query.max-replica-lag is %d s)", behind,
                            maxLag.toSeconds()) : null);
                })
                .onFailure().invoke(e -> {
                    replica.lagSeconds = Double.NaN;
                    if (e instanceof OtherCluster) {
                        rotate(replica, "a standby of another cluster: its system identifier is not the primary's");
                    } else {
                        unreachable(replica, e);
                        if (!(e instanceof PgException)) { // not an answer: its connections may hang for good
                            replica.renewPools();
                        }
                    }
                })
                .onFailure().recoverWithNull().replaceWithVoid();
    }

    /** A replica whose system identifier is not the primary's. */
    private static final class OtherCluster extends RuntimeException {
        OtherCluster() {
            super("a standby of another cluster", null, false, false);
        }
    }

    /** The server's system identifier; empty when its user may not read it (SQLSTATE 42501). */
    private Uni<Optional<Long>> system(Pool server) {
        return server.query(SYSTEM).execute().ifNoItem().after(timeout).fail()
                .map(rows -> Optional.of(rows.iterator().next().getLong(0)))
                .onFailure(e -> e instanceof PgException pg && "42501".equals(pg.getSqlState()))
                .recoverWithItem(Optional.empty());
    }

    private void rotate(Replica replica, String reason) {
        String before = replica.rotate(reason);
        if (reason == null && before != null) {
            LOG.infof("read replica %s is back in the rotation (it was out: %s)", replica.name(), before);
        } else if (reason != null && (before == null || before.equals(NOT_CHECKED))) {
            LOG.warnf("read replica %s leaves the rotation: %s; its GET queries go to %s", replica.name(), reason,
                    replicas.stream().anyMatch(Replica::inRotation) ? "the other replicas" : "the primary");
        }
    }
}
