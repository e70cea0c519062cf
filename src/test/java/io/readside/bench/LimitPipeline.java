package io.readside.bench;

import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import io.readside.orders.OrderEvent;
import io.readside.projection.InvalidRecordException;
import io.readside.revenue.RevenueWindows;

/**
 * The hand-written limit: a plain {@code KafkaConsumer} loop that, per poll, applies the same work as Readside's
 * orders channel (the same parsing, the same fold of the poll, the same order upserts, additive user-total and
 * revenue-window upserts and the partition positions) in one JDBC transaction with multi-row statements, then
 * commits the offsets. No outgoing records, no framework. Runs as its own process until {@code records} records are
 * applied.
 *
 * <p>Arguments: bootstrap servers, JDBC URL, user, password, topic, group, records.
 */
public final class LimitPipeline {

    private static final String PREVIOUS = """
            SELECT o.order_id, o.user_id, o.category, o.total, o.item_count, o.created_at,
                   c.category AS window_category, c.window_start, c.amount AS window_amount
              FROM orders o LEFT JOIN revenue_contributions c ON c.order_id = o.order_id
             WHERE o.order_id = ANY(?) ORDER BY o.order_id FOR UPDATE OF o""";
    private static final String ORDERS = """
            INSERT INTO orders AS o (order_id, user_id, category, total, item_count, created_at, status, processed_at,
                                     source_partition, source_offset, payment_requested_at, status_changed_at)
            SELECT r.order_id, r.user_id, r.category, r.total, r.item_count, r.created_at, 'PENDING', r.processed_at,
                   r.source_partition, r.source_offset, r.processed_at, r.processed_at
              FROM unnest(?::text[], ?::bigint[], ?::text[], ?::numeric[], ?::int[], ?::timestamptz[], ?::timestamptz[],
                          ?::int[], ?::bigint[])
                   AS r(order_id, user_id, category, total, item_count, created_at, processed_at, source_partition,
                        source_offset)
            ON CONFLICT (order_id) DO UPDATE
                SET user_id = EXCLUDED.user_id, category = EXCLUDED.category, total = EXCLUDED.total,
                    item_count = EXCLUDED.item_count, created_at = EXCLUDED.created_at,
                    processed_at = EXCLUDED.processed_at, source_partition = EXCLUDED.source_partition,
                    source_offset = EXCLUDED.source_offset""";
    private static final String TOTALS = """
            INSERT INTO user_order_totals AS t (user_id, order_count, total_spent)
            SELECT * FROM unnest(?::bigint[], ?::int[], ?::numeric[])
            ON CONFLICT (user_id) DO UPDATE
                SET order_count = t.order_count + EXCLUDED.order_count,
                    total_spent = t.total_spent + EXCLUDED.total_spent""";
    private static final String WINDOWS = """
            INSERT INTO revenue_windows AS w (category, window_start, window_end, revenue, order_count)
            SELECT * FROM unnest(?::text[], ?::timestamptz[], ?::timestamptz[], ?::numeric[], ?::int[])
            ON CONFLICT (category, window_start) DO UPDATE
                SET revenue = w.revenue + EXCLUDED.revenue, order_count = w.order_count + EXCLUDED.order_count""";
    private static final String POSITION = """
            INSERT INTO projection_positions AS p (consumer_group, topic, kafka_partition, next_offset, updated_at,
                                                   stream_time)
            VALUES (?, ?, ?, ?, now(), ?)
            ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE
                SET next_offset = EXCLUDED.next_offset, updated_at = now(),
                    stream_time = GREATEST(p.stream_time, EXCLUDED.stream_time)""";
    private static final String STREAM_TIMES = """
            SELECT kafka_partition, stream_time FROM projection_positions WHERE consumer_group = ? AND topic = ?""";

    public static void main(String[] args) throws Exception {
        BenchLogging.info();
        String bootstrap = args[0];
        String topic = args[4];
        String group = args[5];
        long records = Long.parseLong(args[6]);
        RevenueWindows windows = new RevenueWindows(Duration.ofSeconds(60), Duration.ofMinutes(5));
        OrderEvent.Limits limits = new OrderEvent.Limits(new BigDecimal("1000000"), null);
        long start = System.nanoTime();
        long applied = 0;
        try (Connection db = DriverManager.getConnection(args[1], args[2], args[3]);
                KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                        ConsumerConfig.GROUP_ID_CONFIG, group,
                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000), // as Readside's orders channel (max.poll.records)
                        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            db.setAutoCommit(false);
            consumer.subscribe(List.of(topic));
            Map<Integer, Instant> streamTimes = new HashMap<>();
            try (PreparedStatement read = db.prepareStatement(STREAM_TIMES)) {
                read.setString(1, group);
                read.setString(2, topic);
                try (ResultSet rows = read.executeQuery()) {
                    while (rows.next()) {
                        streamTimes.put(rows.getInt(1), rows.getTimestamp(2).toInstant());
                    }
                }
            }
            db.commit();
            while (applied < records) {
                ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(200));
                if (polled.isEmpty()) {
                    continue;
                }
                List<BenchFold.Input> inputs = new ArrayList<>();
                Map<TopicPartition, OffsetAndMetadata> offsets = new TreeMap<>(
                        java.util.Comparator.comparing(TopicPartition::toString));
                for (TopicPartition partition : polled.partitions()) {
                    for (ConsumerRecord<byte[], byte[]> record : polled.records(partition)) {
                        try {
                            inputs.add(new BenchFold.Input(OrderEvent.parse(record.key(), record.value(), limits),
                                    record.partition(), record.offset()));
                        } catch (InvalidRecordException e) {
                            // not in the benchmark's data
                        }
                        offsets.put(partition, new OffsetAndMetadata(record.offset() + 1));
                    }
                }
                Map<String, BenchFold.Previous> previous = previous(db, inputs);
                BenchFold batch = new BenchFold(windows, previous, streamTimes).apply(inputs, Instant.now());
                write(db, batch, windows);
                for (Map.Entry<TopicPartition, OffsetAndMetadata> offset : offsets.entrySet()) {
                    int partition = offset.getKey().partition();
                    try (PreparedStatement position = db.prepareStatement(POSITION)) {
                        position.setString(1, group);
                        position.setString(2, topic);
                        position.setInt(3, partition);
                        position.setLong(4, offset.getValue().offset());
                        Instant streamTime = batch.streamTime().get(partition);
                        position.setTimestamp(5, streamTime == null ? null : Timestamp.from(streamTime));
                        position.executeUpdate();
                    }
                    if (batch.streamTime().get(partition) != null) {
                        streamTimes.put(partition, batch.streamTime().get(partition));
                    }
                }
                db.commit();
                consumer.commitAsync(offsets, null);
                applied += polled.count();
            }
            consumer.commitSync();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long cpuNanos = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
        String peak = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status")).stream()
                .filter(line -> line.startsWith("VmHWM:")).findFirst().orElse("VmHWM: 0 kB")
                .replaceAll("[^0-9]", "");
        // read by Benchmark
        System.out.printf("LIMIT records=%d seconds=%.3f cpu_seconds=%.3f peak_rss_kb=%s%n", applied, seconds,
                cpuNanos / 1e9, peak);
    }

    private static Map<String, BenchFold.Previous> previous(Connection db, List<BenchFold.Input> inputs)
            throws SQLException {
        Map<String, BenchFold.Previous> previous = new HashMap<>();
        String[] ids = inputs.stream().map(input -> input.order().orderId()).distinct().toArray(String[]::new);
        try (PreparedStatement read = db.prepareStatement(PREVIOUS)) {
            read.setArray(1, db.createArrayOf("text", ids));
            try (ResultSet rows = read.executeQuery()) {
                while (rows.next()) {
                    String category = rows.getString("window_category");
                    previous.put(rows.getString("order_id"), new BenchFold.Previous(rows.getLong("user_id"),
                            rows.getString("category"), rows.getBigDecimal("total"),
                            (Integer) rows.getObject("item_count"), rows.getTimestamp("created_at").toInstant(),
                            category == null ? null : new RevenueWindows.Contribution(category,
                                    rows.getTimestamp("window_start").toInstant(), rows.getBigDecimal("window_amount"))));
                }
            }
        }
        return previous;
    }

    private static void write(Connection db, BenchFold batch, RevenueWindows windows) throws SQLException {
        int n = batch.rows.size();
        Object[][] o = new Object[9][n];
        Object[][] c = new Object[4][n];
        int i = 0;
        for (BenchFold.Row row : batch.rows.values()) {
            o[0][i] = row.order().orderId();
            o[1][i] = row.order().userId();
            o[2][i] = row.order().category();
            o[3][i] = row.order().total();
            o[4][i] = row.order().itemCount();
            o[5][i] = Timestamp.from(row.order().createdAt());
            o[6][i] = Timestamp.from(row.processedAt());
            o[7][i] = row.partition();
            o[8][i] = row.offset();
            c[0][i] = row.order().orderId();
            c[1][i] = row.counted() == null ? null : row.counted().category();
            c[2][i] = row.counted() == null ? null : Timestamp.from(row.counted().windowStart());
            c[3][i++] = row.counted() == null ? null : row.counted().amount();
        }
        String[] types = { "text", "bigint", "text", "numeric", "int4", "timestamptz", "timestamptz", "int4",
                "bigint" };
        execute(db, ORDERS, o, types);
        execute(db, BenchFold.CONTRIBUTIONS, c, new String[] { "text", "text", "timestamptz", "numeric" });
        int u = batch.userDeltas.size();
        Object[][] t = new Object[3][u];
        i = 0;
        for (Map.Entry<Long, BenchFold.UserDelta> delta : batch.userDeltas.entrySet()) {
            t[0][i] = delta.getKey();
            t[1][i] = delta.getValue().orders();
            t[2][i++] = delta.getValue().amount();
        }
        execute(db, TOTALS, t, new String[] { "bigint", "int4", "numeric" });
        int w = batch.windowDeltas.size();
        Object[][] r = new Object[5][w];
        i = 0;
        for (RevenueWindows.Delta delta : batch.windowDeltas.values()) {
            r[0][i] = delta.category();
            r[1][i] = Timestamp.from(delta.windowStart());
            r[2][i] = Timestamp.from(windows.windowEnd(delta.windowStart()));
            r[3][i] = delta.revenue();
            r[4][i++] = delta.orderCount();
        }
        execute(db, WINDOWS, r, new String[] { "text", "timestamptz", "timestamptz", "numeric", "int4" });
    }

    private static void execute(Connection db, String sql, Object[][] columns, String[] types) throws SQLException {
        if (columns[0].length == 0) {
            return;
        }
        try (PreparedStatement statement = db.prepareStatement(sql)) {
            for (int c = 0; c < columns.length; c++) {
                Array array = db.createArrayOf(types[c], columns[c]);
                statement.setArray(c + 1, array);
            }
            statement.executeUpdate();
        }
    }
}
