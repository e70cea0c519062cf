package io.readside.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import io.readside.projection.Output;
import io.readside.projection.outbox.OutboxRecords;

/**
 * Loop B, the hand-written loop that does <b>the same work</b> as Readside's orders channel and outbox relay
 * (issue 16), so that the distance to it is the cost of the framework and not of work the orders-only limit
 * ({@link LimitPipeline}) skips. A plain {@code KafkaConsumer}, JDBC and one {@code KafkaProducer}; per poll:
 *
 * <ol>
 * <li>one JDBC transaction: claim the partitions' positions (fenced like Readside's: only if nothing at or past the
 * poll's first offset was applied meanwhile, returning the stream time before the poll), the order-id advisory locks
 * (same lock class and order), the previous versions {@code FOR UPDATE}, the fold (Readside's own, through
 * {@link ReadsideFold}), the order upserts, a payment request per new order into {@code outbox} (one row of records,
 * the payloads of PaymentSaga.requestPayments), the users' totals, the revenue windows ({@code RETURNING} each changed
 * window's state), the stream times; commit;</li>
 * <li>after the commit: every change to {@code processed-orders} (the order's bytes + processed_at + status), every
 * changed window to {@code revenue-by-category}, the outbox row's requests to {@code payment-requests} (with the
 * {@code readside-outbox-id} header, as the relay sends them): async sends, one flush per poll, acks=all,
 * idempotence, lz4; then the outbox rows are marked published with where they landed (the relay's statement);</li>
 * <li>the consumer offsets are committed.</li>
 * </ol>
 *
 * Multi-row ({@code unnest}) statements as Readside's batch path; where Readside takes a round trip per partition
 * (claim, stream time) this loop takes one per poll, as a hand-written loop would. It does not consume user-events,
 * keeps no metrics, no tracing, no dead letters (the benchmark's data has no invalid records). Runs as its own
 * process until {@code records} records are applied.
 *
 * <p>Arguments: bootstrap servers, JDBC URL, user, password, topic, group, records.
 */
public final class SameWorkPipeline {

    private static final String PROCESSED_ORDERS = "processed-orders";
    private static final String REVENUE_BY_CATEGORY = "revenue-by-category";
    private static final String PAYMENT_REQUESTS = "payment-requests";
    /** OrdersProjector.ORDER_LOCKS ("ORDR"): the order-id locks' own space. */
    private static final int ORDER_LOCKS = 0x4f524452;

    /**
     * RecordApplier.CLAIM_RANGE for every partition of the poll in one statement: a partition whose position moved
     * past the poll's first offset is not updated and not returned (the caller compares the counts).
     */
    private static final String CLAIM = """
            INSERT INTO projection_positions AS p (consumer_group, topic, kafka_partition, next_offset, updated_at)
            SELECT ?, ?, r.kafka_partition, r.next_offset, now()
              FROM unnest(?::int[], ?::bigint[]) AS r(kafka_partition, next_offset)
            ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE
                SET next_offset = EXCLUDED.next_offset, updated_at = EXCLUDED.updated_at
                WHERE p.next_offset <= (SELECT f.first_offset FROM unnest(?::int[], ?::bigint[])
                                            AS f(kafka_partition, first_offset)
                                         WHERE f.kafka_partition = p.kafka_partition)
            RETURNING kafka_partition, stream_time""";
    /** OrderTable.LOCK_ORDER_IDS. */
    private static final String LOCK_ORDER_IDS = """
            SELECT pg_advisory_xact_lock(?, k)
              FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest(?::text[]) AS id ORDER BY k) AS ids""";
    /** OrderTable.PREVIOUS_VERSIONS, with RevenueContributions.PREVIOUS_CONTRIBUTIONS joined. */
    private static final String PREVIOUS_VERSIONS = """
            SELECT o.order_id, o.user_id, o.category, o.total, o.item_count, o.created_at,
                   c.category AS window_category, c.window_start, c.amount AS window_amount
              FROM orders o LEFT JOIN revenue_contributions c ON c.order_id = o.order_id
             WHERE o.order_id = ANY(?)
             ORDER BY o.order_id
               FOR UPDATE OF o""";
    /** OrderTable.UPSERT_ALL. */
    private static final String UPSERT_ALL = """
            INSERT INTO orders AS o (order_id, user_id, category, total, item_count, created_at, status, processed_at,
                                     source_partition, source_offset, payment_requested_at, status_changed_at)
            SELECT r.order_id, r.user_id, r.category, r.total::numeric, r.item_count, r.created_at, 'PENDING',
                   r.processed_at, r.source_partition, r.source_offset, r.processed_at, r.processed_at
              FROM unnest(?::text[], ?::bigint[], ?::text[], ?::text[], ?::int[], ?::timestamptz[],
                          ?::timestamptz[], ?::int[], ?::bigint[])
                   AS r(order_id, user_id, category, total, item_count, created_at, processed_at, source_partition,
                        source_offset)
             ORDER BY r.order_id
            ON CONFLICT (order_id) DO UPDATE
                SET user_id = EXCLUDED.user_id, category = EXCLUDED.category, total = EXCLUDED.total,
                    item_count = EXCLUDED.item_count, created_at = EXCLUDED.created_at,
                    processed_at = EXCLUDED.processed_at, source_partition = EXCLUDED.source_partition,
                    source_offset = EXCLUDED.source_offset""";
    /** Outbox.addAll's row of records (a poll's requests are well under its 4 MiB), returning its id. */
    private static final String OUTBOX_ADD_ALL = """
            INSERT INTO outbox (topic, event_type, records, trace_context) VALUES (?, ?, ?, NULL) RETURNING id""";
    /** UserOrderTotalsProjector.ADD_TO_MANY_TOTALS. */
    private static final String ADD_TO_TOTALS = """
            INSERT INTO user_order_totals AS t (user_id, order_count, total_spent)
            SELECT d.user_id, d.order_count, d.total_spent::numeric
              FROM unnest(?::bigint[], ?::int[], ?::text[]) AS d(user_id, order_count, total_spent)
            ON CONFLICT (user_id) DO UPDATE
                SET order_count = t.order_count + EXCLUDED.order_count,
                    total_spent = t.total_spent + EXCLUDED.total_spent""";
    /** RevenueProjector.ADD_TO_WINDOWS. */
    private static final String ADD_TO_WINDOWS = """
            INSERT INTO revenue_windows AS w (category, window_start, window_end, revenue, order_count)
            SELECT d.category, d.window_start, d.window_end, d.revenue::numeric, d.order_count
              FROM unnest(?::text[], ?::timestamptz[], ?::timestamptz[], ?::text[], ?::int[])
                   AS d(category, window_start, window_end, revenue, order_count)
            ON CONFLICT (category, window_start) DO UPDATE
                SET revenue = w.revenue + EXCLUDED.revenue,
                    order_count = w.order_count + EXCLUDED.order_count,
                    revision = w.revision + 1
            RETURNING category, window_start, window_end, revenue, order_count, revision""";
    /** OrdersProjector.ADVANCE_STREAM_TIME for every touched partition in one statement. */
    private static final String ADVANCE_STREAM_TIMES = """
            UPDATE projection_positions p SET stream_time = GREATEST(p.stream_time, r.stream_time)
              FROM unnest(?::int[], ?::timestamptz[]) AS r(kafka_partition, stream_time)
             WHERE p.consumer_group = ? AND p.topic = ? AND p.kafka_partition = r.kafka_partition""";
    /** OutboxRelay.MARK_PUBLISHED. */
    private static final String MARK_PUBLISHED = """
            UPDATE outbox o SET published_at = now(), kafka_partition = r.kafka_partition, kafka_offset = r.kafka_offset
              FROM unnest(?::bigint[], ?::int[], ?::bigint[]) AS r(id, kafka_partition, kafka_offset)
             WHERE o.id = r.id""";

    private static final JsonFactory JSON = new JsonFactory();

    private final Connection db;
    private final String topic;
    private final String group;
    private final ReadsideFold fold = new ReadsideFold();
    private final KafkaProducer<String, byte[]> producer;
    private final Map<String, PreparedStatement> statements = new HashMap<>();
    private long processedOrders;
    private long revenueUpdates;
    private long paymentRequests;

    private SameWorkPipeline(Connection db, KafkaProducer<String, byte[]> producer, String topic, String group) {
        this.db = db;
        this.producer = producer;
        this.topic = topic;
        this.group = group;
    }

    public static void main(String[] args) throws Exception {
        BenchLogging.info();
        String bootstrap = args[0];
        String topic = args[4];
        String group = args[5];
        long records = Long.parseLong(args[6]);
        int pollSize = args.length > 7 ? Integer.parseInt(args[7]) : 2000;
        long start = System.nanoTime();
        long applied = 0;
        SameWorkPipeline loop;
        try (Connection db = DriverManager.getConnection(args[1], args[2], args[3]);
                KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                        ConsumerConfig.GROUP_ID_CONFIG, group,
                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, pollSize),
                        new ByteArrayDeserializer(), new ByteArrayDeserializer());
                // the settings of Readside's outgoing channels: acks=all, idempotent, lz4, no linger
                KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                        ProducerConfig.ACKS_CONFIG, "all",
                        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                        ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4",
                        ProducerConfig.LINGER_MS_CONFIG, 0),
                        new StringSerializer(), new ByteArraySerializer())) {
            db.setAutoCommit(false);
            loop = new SameWorkPipeline(db, producer, topic, group);
            consumer.subscribe(List.of(topic));
            while (applied < records) {
                ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(200));
                if (polled.isEmpty()) {
                    continue;
                }
                Map<TopicPartition, OffsetAndMetadata> offsets = loop.apply(polled);
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
        System.out.printf("SAMEWORK records=%d seconds=%.3f cpu_seconds=%.3f peak_rss_kb=%s processed_orders=%d"
                + " revenue_updates=%d payment_requests=%d%n", applied, seconds, cpuNanos / 1e9, peak,
                loop.processedOrders, loop.revenueUpdates, loop.paymentRequests);
    }

    /** One poll: the transaction, then the publishing; returns the offsets to commit. */
    private Map<TopicPartition, OffsetAndMetadata> apply(ConsumerRecords<byte[], byte[]> polled) throws Exception {
        ReadsideFold.Poll poll = fold.poll();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<Integer, long[]> ranges = new TreeMap<>(); // partition -> {first, next}
        for (TopicPartition partition : polled.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> records = polled.records(partition);
            for (ConsumerRecord<byte[], byte[]> record : records) {
                poll.add(record);
            }
            long first = records.get(0).offset();
            long next = records.get(records.size() - 1).offset() + 1;
            ranges.put(partition.partition(), new long[] { first, next });
            offsets.put(partition, new OffsetAndMetadata(next));
        }
        Map<Integer, Instant> streamTimes = claim(ranges);
        String[] ids = poll.orderIds();
        if (ids.length > 0) {
            PreparedStatement lock = statement(LOCK_ORDER_IDS);
            lock.setInt(1, ORDER_LOCKS);
            lock.setArray(2, db.createArrayOf("text", ids));
            lock.executeQuery().close();
            PreparedStatement previous = statement(PREVIOUS_VERSIONS);
            previous.setArray(1, db.createArrayOf("text", ids));
            try (ResultSet rows = previous.executeQuery()) {
                while (rows.next()) {
                    poll.previous(rows);
                }
            }
        }
        // as the service: one processed_at for the poll, in microseconds (the column's precision)
        Instant processedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        ReadsideFold.Folded folded = poll.fold(streamTimes, processedAt);
        writeOrders(folded.rows());
        List<Outgoing> outbox = requestPayments(folded.created(), processedAt);
        addToTotals(folded.users());
        List<Outgoing> windows = addToWindows(folded.windows());
        advanceStreamTimes(folded.streamTime(), ranges);
        db.commit();
        publish(folded.changes(), windows, outbox);
        return offsets;
    }

    /** Claims every partition's offsets of the poll; returns the stream times before it. */
    private Map<Integer, Instant> claim(Map<Integer, long[]> ranges) throws SQLException {
        Integer[] partitions = ranges.keySet().toArray(new Integer[0]);
        Long[] first = new Long[partitions.length];
        Long[] next = new Long[partitions.length];
        for (int i = 0; i < partitions.length; i++) {
            first[i] = ranges.get(partitions[i])[0];
            next[i] = ranges.get(partitions[i])[1];
        }
        PreparedStatement claim = statement(CLAIM);
        claim.setString(1, group);
        claim.setString(2, topic);
        claim.setArray(3, db.createArrayOf("int4", partitions));
        claim.setArray(4, db.createArrayOf("int8", next));
        claim.setArray(5, db.createArrayOf("int4", partitions));
        claim.setArray(6, db.createArrayOf("int8", first));
        Map<Integer, Instant> streamTimes = new HashMap<>();
        int claimed = 0;
        try (ResultSet rows = claim.executeQuery()) {
            while (rows.next()) {
                claimed++;
                Timestamp streamTime = rows.getTimestamp(2);
                if (streamTime != null) {
                    streamTimes.put(rows.getInt(1), streamTime.toInstant());
                }
            }
        }
        if (claimed != partitions.length) { // Readside would roll back and read again from the stored positions
            throw new IllegalStateException("a position moved meanwhile: another writer on " + topic);
        }
        return streamTimes;
    }

    private void writeOrders(List<ReadsideFold.OrderRow> rows) throws SQLException {
        int n = rows.size();
        if (n == 0) {
            return;
        }
        Object[][] c = new Object[9][n];
        Object[][] counted = new Object[4][n];
        for (int i = 0; i < n; i++) {
            ReadsideFold.OrderRow row = rows.get(i);
            c[0][i] = row.orderId();
            c[1][i] = row.userId();
            c[2][i] = row.category();
            c[3][i] = row.total().toPlainString();
            c[4][i] = row.itemCount();
            c[5][i] = Timestamp.from(row.createdAt());
            c[6][i] = Timestamp.from(row.processedAt());
            c[7][i] = row.partition();
            c[8][i] = row.offset();
            counted[0][i] = row.orderId();
            counted[1][i] = row.windowCategory();
            counted[2][i] = row.windowStart() == null ? null : Timestamp.from(row.windowStart());
            counted[3][i] = row.windowAmount();
        }
        execute(UPSERT_ALL, c, "text", "int8", "text", "text", "int4", "timestamptz", "timestamptz", "int4", "int8");
        execute(BenchFold.CONTRIBUTIONS, counted, "text", "text", "timestamptz", "numeric");
    }

    /** PaymentSaga.requestPayments: a payment.requested command per new order, in the outbox. */
    private List<Outgoing> requestPayments(List<ReadsideFold.Created> created, Instant at) throws SQLException {
        if (created.isEmpty()) {
            return List.of();
        }
        List<Output> requests = new ArrayList<>(created.size());
        for (ReadsideFold.Created order : created) {
            requests.add(new Output(PAYMENT_REQUESTS, order.orderId().getBytes(StandardCharsets.UTF_8),
                    paymentRequested(order, at).getBytes(StandardCharsets.UTF_8)));
        }
        PreparedStatement add = statement(OUTBOX_ADD_ALL);
        add.setString(1, PAYMENT_REQUESTS);
        add.setString(2, "payment.requested");
        add.setBytes(3, OutboxRecords.encode(requests));
        long id;
        try (ResultSet inserted = add.executeQuery()) {
            inserted.next();
            id = inserted.getLong(1);
        }
        List<Outgoing> rows = new ArrayList<>(requests.size());
        for (Output request : requests) {
            rows.add(new Outgoing(id, new String(request.key(), StandardCharsets.UTF_8), request.value()));
        }
        return rows;
    }

    private void addToTotals(List<ReadsideFold.UserDelta> users) throws SQLException {
        int n = users.size();
        if (n == 0) {
            return;
        }
        Object[][] c = new Object[3][n];
        for (int i = 0; i < n; i++) {
            c[0][i] = users.get(i).userId();
            c[1][i] = users.get(i).orders();
            c[2][i] = users.get(i).amount().toPlainString();
        }
        execute(ADD_TO_TOTALS, c, "int8", "int4", "text");
    }

    /** The windows' deltas; returns each changed window's state after them, as revenue-by-category values. */
    private List<Outgoing> addToWindows(List<ReadsideFold.WindowDelta> deltas) throws SQLException {
        int n = deltas.size();
        if (n == 0) {
            return List.of();
        }
        Object[][] c = new Object[5][n];
        for (int i = 0; i < n; i++) {
            ReadsideFold.WindowDelta delta = deltas.get(i);
            c[0][i] = delta.category();
            c[1][i] = Timestamp.from(delta.windowStart());
            c[2][i] = Timestamp.from(delta.windowEnd());
            c[3][i] = delta.revenue().toPlainString();
            c[4][i] = delta.orderCount();
        }
        PreparedStatement add = bind(ADD_TO_WINDOWS, c, "text", "timestamptz", "timestamptz", "text", "int4");
        List<Outgoing> states = new ArrayList<>(n);
        try (ResultSet rows = add.executeQuery()) {
            while (rows.next()) {
                String category = rows.getString(1);
                states.add(new Outgoing(0, category, revenueUpdate(category, rows.getTimestamp(2).toInstant(),
                        rows.getTimestamp(3).toInstant(), rows.getBigDecimal(4), rows.getInt(5), rows.getLong(6))));
            }
        }
        return states;
    }

    private void advanceStreamTimes(Map<Integer, Instant> streamTime, Map<Integer, long[]> ranges)
            throws SQLException {
        List<Integer> partitions = new ArrayList<>();
        List<Timestamp> times = new ArrayList<>();
        for (Integer partition : ranges.keySet()) {
            Instant time = streamTime.get(partition);
            if (time != null) {
                partitions.add(partition);
                times.add(Timestamp.from(time));
            }
        }
        if (partitions.isEmpty()) {
            return;
        }
        PreparedStatement advance = statement(ADVANCE_STREAM_TIMES);
        advance.setArray(1, db.createArrayOf("int4", partitions.toArray()));
        advance.setArray(2, db.createArrayOf("timestamptz", times.toArray()));
        advance.setString(3, group);
        advance.setString(4, topic);
        advance.executeUpdate();
    }

    /**
     * After the commit: all of the poll's outgoing records, sent asynchronously and flushed once; then the outbox
     * rows are marked published (a crash before the mark publishes them again: at least once, as the relay).
     */
    private void publish(List<ReadsideFold.Change> changes, List<Outgoing> windows, List<Outgoing> outbox)
            throws Exception {
        List<Future<RecordMetadata>> sent = new ArrayList<>(changes.size() + windows.size());
        for (ReadsideFold.Change change : changes) {
            sent.add(producer.send(new ProducerRecord<>(PROCESSED_ORDERS, change.orderId(),
                    ReadsideFold.processedOrder(change.value(), change.processedAt()))));
        }
        for (Outgoing window : windows) {
            sent.add(producer.send(new ProducerRecord<>(REVENUE_BY_CATEGORY, window.key(), window.value())));
        }
        List<Future<RecordMetadata>> relayed = new ArrayList<>(outbox.size());
        for (int i = 0; i < outbox.size(); i++) { // one row: its id and each request's place in it, as the relay
            Outgoing request = outbox.get(i);
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(PAYMENT_REQUESTS, request.key(),
                    request.value());
            record.headers().add("readside-outbox-id", (request.id() + ":" + i).getBytes(StandardCharsets.US_ASCII));
            relayed.add(producer.send(record));
        }
        producer.flush();
        for (Future<RecordMetadata> send : sent) {
            acknowledged(send);
        }
        processedOrders += changes.size();
        revenueUpdates += windows.size();
        if (outbox.isEmpty()) {
            return;
        }
        for (Future<RecordMetadata> send : relayed) {
            acknowledged(send);
        }
        Long[] ids = { outbox.get(0).id() }; // a row of records: where each landed is not kept
        Integer[] partitions = { null };
        Long[] offsets = { null };
        PreparedStatement mark = statement(MARK_PUBLISHED);
        mark.setArray(1, db.createArrayOf("int8", ids));
        mark.setArray(2, db.createArrayOf("int4", partitions));
        mark.setArray(3, db.createArrayOf("int8", offsets));
        mark.executeUpdate();
        db.commit();
        paymentRequests += outbox.size();
    }

    private static RecordMetadata acknowledged(Future<RecordMetadata> send) throws InterruptedException {
        try {
            return send.get();
        } catch (ExecutionException e) { // Readside retries with back-off; for the benchmark a failure is the end
            throw new IllegalStateException("the broker did not take a record", e.getCause());
        }
    }

    /** A record to publish: its outbox id (0: none), key and value. */
    private record Outgoing(long id, String key, byte[] value) {
    }

    /**
     * PaymentCommand as the service's ObjectMapper writes it (snake_case, non-null members, ISO instants):
     * {@code {"type":"payment.requested","order_id":...,"user_id":...,"amount":12.50,"requested_at":"..."}}.
     */
    private static String paymentRequested(ReadsideFold.Created order, Instant at) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("type", "payment.requested");
            json.writeStringField("order_id", order.orderId());
            json.writeNumberField("user_id", order.userId());
            json.writeNumberField("amount", order.total());
            json.writeStringField("requested_at", at.toString());
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** RevenueByCategory.RevenueUpdate as the service writes it; the revenue is a string. */
    private static byte[] revenueUpdate(String category, Instant start, Instant end, BigDecimal revenue, int count,
            long revision) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("category", category);
            json.writeStringField("window_start", start.toString());
            json.writeStringField("window_end", end.toString());
            json.writeStringField("revenue", revenue.toPlainString());
            json.writeNumberField("order_count", count);
            json.writeNumberField("revision", revision);
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Prepared once per connection and reused, as the service's cache-prepared-statements does. */
    private PreparedStatement statement(String sql) throws SQLException {
        PreparedStatement statement = statements.get(sql);
        if (statement == null) {
            statement = db.prepareStatement(sql);
            statements.put(sql, statement);
        }
        return statement;
    }

    private PreparedStatement bind(String sql, Object[][] columns, String... types) throws SQLException {
        PreparedStatement statement = statement(sql);
        for (int c = 0; c < columns.length; c++) {
            statement.setArray(c + 1, db.createArrayOf(types[c], columns[c]));
        }
        return statement;
    }

    private void execute(String sql, Object[][] columns, String... types) throws SQLException {
        bind(sql, columns, types).executeUpdate();
    }
}
