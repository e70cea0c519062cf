package io.readside.projection.replay;

import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.flywaydb.core.Flyway;

import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Transaction;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The shadow schema of a rebuild ({@value Rebuilds#SHADOW}): laid out empty by the service's own Flyway migrations,
 * swapped in for the live tables in one transaction (the replaced ones go to {@value Rebuilds#REPLACED}), and dropped
 * with them afterwards. Blocks; runs on the rebuild's thread.
 */
@ApplicationScoped
class ShadowSchema {

    static final String HOLD_LIVE_POSITIONS = Rebuilds.LIVE_POSITIONS + " FOR UPDATE";
    /**
     * A position row (next offset 0: nothing applied, as no row) for each partition that has none yet, inserted by
     * the switch's transaction so that it holds those partitions' writers too: a writer's claim of a partition without
     * a row would otherwise insert one, not wait, and apply its records to the table the switch moves away.
     */
    static final String ROWS_FOR_EVERY_PARTITION = """
            INSERT INTO projection_positions (consumer_group, topic, kafka_partition, next_offset, updated_at)
            SELECT $1, $2, p, 0, now() FROM unnest($3::int[]) AS p
            ON CONFLICT (consumer_group, topic, kafka_partition) DO NOTHING""";
    static final String SHADOW_POSITIONS = """
            SELECT kafka_partition, next_offset FROM readside_rebuild.projection_positions
             WHERE consumer_group = $1 AND topic = $2""";
    static final String COPY_STREAM_TIME = """
            UPDATE projection_positions p SET stream_time = s.stream_time, updated_at = now()
              FROM readside_rebuild.projection_positions s
             WHERE s.consumer_group = p.consumer_group AND s.topic = p.topic AND s.kafka_partition = p.kafka_partition
               AND p.consumer_group = $1 AND p.topic = $2""";

    @Inject
    Pool pool;
    @Inject
    Flyway flyway;

    /** An empty schema with the service's tables, created by the service's own migrations. */
    void prepare() {
        pool.query("DROP SCHEMA IF EXISTS " + Rebuilds.SHADOW + " CASCADE").execute().await().indefinitely();
        Flyway.configure(Thread.currentThread().getContextClassLoader())
                .configuration(flyway.getConfiguration())
                .schemas(Rebuilds.SHADOW).defaultSchema(Rebuilds.SHADOW).createSchemas(true)
                .load().migrate();
    }

    /** Drops the replaced tables and what is left of the shadow. */
    void drop() {
        pool.query("DROP SCHEMA IF EXISTS " + Rebuilds.REPLACED + " CASCADE").execute().await().indefinitely();
        pool.query("DROP SCHEMA IF EXISTS " + Rebuilds.SHADOW + " CASCADE").execute().await().indefinitely();
    }

    /**
     * Holds the live writers of the topic (their position rows, locked FOR UPDATE), brings the shadow to exactly
     * those positions ({@code catchUp}, given them: partition -> next offset), and swaps the tables; everything in
     * one transaction, rolled back on any failure. The topic's partitions are asked of the broker inside it
     * ({@code partitionsNow}, which also replays those added since the rebuild started): a partition added during the
     * rebuild gets its position row here, so its writer waits for the switch too. Sets the run's {@code live} and
     * {@code switchMillis} (how long the writers were held).
     *
     * @throws IllegalStateException when the shadow's positions differ from the live ones after the catch-up
     */
    void switchOver(Run run, Instant carriedOver, Supplier<Collection<Integer>> partitionsNow,
            Consumer<Map<Integer, Long>> catchUp) {
        Replayable<?> model = run.model;
        SqlConnection conn = pool.getConnection().await().indefinitely();
        try {
            Transaction tx = conn.begin().await().indefinitely();
            long held = System.nanoTime();
            try {
                conn.preparedQuery(ROWS_FOR_EVERY_PARTITION).execute(Tuple.of(model.group(), model.topic(),
                        partitionsNow.get().toArray(new Integer[0]))).await().indefinitely();
                Map<Integer, Long> live = Rebuilds.positions(conn, HOLD_LIVE_POSITIONS, model);
                run.live = live;
                catchUp.accept(live);
                Map<Integer, Long> rebuilt = Rebuilds.positions(conn, SHADOW_POSITIONS, model);
                for (Map.Entry<Integer, Long> position : live.entrySet()) {
                    Long replayed = rebuilt.get(position.getKey());
                    // no row: retention deleted every record the live side applied from that partition
                    boolean nothingRetained = replayed == null
                            && run.rebuilt.getOrDefault(position.getKey(), 0L) >= position.getValue();
                    if (!position.getValue().equals(replayed) && !nothingRetained) {
                        throw new IllegalStateException("rebuilt positions " + rebuilt + " differ from live " + live);
                    }
                }
                String schema = conn.query("SELECT current_schema()").execute().await().indefinitely()
                        .iterator().next().getString(0);
                model.carryOver(conn, identifier(schema), Rebuilds.SHADOW, carriedOver).await().indefinitely();
                conn.preparedQuery(COPY_STREAM_TIME).execute(Tuple.of(model.group(), model.topic()))
                        .await().indefinitely();
                execute(conn, "DROP SCHEMA IF EXISTS " + Rebuilds.REPLACED + " CASCADE");
                execute(conn, "CREATE SCHEMA " + Rebuilds.REPLACED);
                for (String table : model.tables()) {
                    execute(conn, "ALTER TABLE " + identifier(schema) + "." + identifier(table) + " SET SCHEMA "
                            + Rebuilds.REPLACED);
                    execute(conn, "ALTER TABLE " + Rebuilds.SHADOW + "." + identifier(table) + " SET SCHEMA "
                            + identifier(schema));
                }
                tx.commit().await().indefinitely();
                run.switchMillis = (System.nanoTime() - held) / 1_000_000;
            } catch (RuntimeException e) {
                tx.rollback().await().indefinitely();
                throw e;
            }
        } finally {
            conn.close().await().indefinitely();
        }
    }

    private static void execute(SqlConnection conn, String sql) {
        conn.query(sql).execute().await().indefinitely();
    }

    /** A schema or table name the service itself chose or read from PostgreSQL, quoted as an identifier. */
    static String identifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }
}
