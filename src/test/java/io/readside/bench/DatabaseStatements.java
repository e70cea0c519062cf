package io.readside.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Map;

import io.readside.dev.EmbeddedPostgresql;

/**
 * {@code -Dbench.statements=true}: what a drain makes PostgreSQL do, statement by statement (pg_stat_statements,
 * preloaded into the benchmark's server, its view in a schema of its own that the drains' resets do not drop).
 */
final class DatabaseStatements {

    static final boolean ENABLED = Boolean.getBoolean("bench.statements");

    private DatabaseStatements() {
    }

    /** The server settings that load the extension, when enabled. */
    static Map<String, String> serverConfig() {
        return ENABLED ? Map.of("shared_preload_libraries", "pg_stat_statements", "pg_stat_statements.track", "all",
                "pg_stat_statements.track_planning", "on") : Map.of();
    }

    static void install(String jdbcUrl) throws SQLException {
        if (ENABLED) {
            execute(jdbcUrl, "CREATE SCHEMA IF NOT EXISTS bench_stats",
                    "CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA bench_stats");
        }
    }

    static void reset(String jdbcUrl) throws SQLException {
        if (ENABLED) {
            execute(jdbcUrl, "SELECT bench_stats.pg_stat_statements_reset()");
        }
    }

    /** The statements that took the most time since the last reset, per 1,000 orders; empty when not enabled. */
    static String summary(String jdbcUrl, long orders, int top) throws SQLException {
        if (!ENABLED) {
            return "";
        }
        StringBuilder out = new StringBuilder("| ms per 1,000 orders (execution + planning) | calls per 1,000"
                + " | rows per call | statement |\n|---|---|---|---|\n");
        try (Connection db = connect(jdbcUrl); Statement statement = db.createStatement();
                ResultSet rows = statement.executeQuery("""
                        SELECT total_exec_time + total_plan_time, calls, rows, regexp_replace(query, '\\s+', ' ', 'g')
                          FROM bench_stats.pg_stat_statements
                         WHERE query NOT LIKE '%bench_stats%'
                         ORDER BY 1 DESC LIMIT""" + " " + top)) {
            double per = orders / 1000.0;
            while (rows.next()) {
                String query = rows.getString(4);
                out.append(String.format(Locale.ROOT, "| %.1f | %.1f | %.1f | `%s` |%n", rows.getDouble(1) / per,
                        rows.getLong(2) / per, rows.getLong(3) / (double) Math.max(1, rows.getLong(2)),
                        (query.length() > 160 ? query.substring(0, 160) + " ..." : query).replace("|", "\\|")));
            }
        }
        return out.toString();
    }

    private static void execute(String jdbcUrl, String... sql) throws SQLException {
        try (Connection db = connect(jdbcUrl); Statement statement = db.createStatement()) {
            for (String each : sql) {
                statement.execute(each);
            }
        }
    }

    private static Connection connect(String jdbcUrl) throws SQLException {
        return DriverManager.getConnection(jdbcUrl, EmbeddedPostgresql.USER, EmbeddedPostgresql.USER);
    }
}
