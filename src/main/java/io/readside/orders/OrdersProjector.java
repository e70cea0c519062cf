package io.readside.orders;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Incoming;

import io.readside.projection.Batch;
import io.readside.projection.Committed;
import io.readside.projection.ExactJson;
import io.readside.projection.Output;
import io.readside.projection.ProjectionMetrics;
import io.readside.projection.Projector;
import io.readside.projection.replay.Replayable;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The orders changelog: topic {@code orders} into the entity table {@code orders} (one row per order id, its latest
 * version) and, in the same transaction, every {@link OrdersReadModel} derived from it (revenue windows, users' order
 * totals, the saga's payment requests). A new record for a known order id is the same order: each read model moves
 * by the difference, and a copy of the same content moves nothing. Each change goes to {@code processed-orders}
 * (the order as received plus {@code processed_at} and {@code status}) through the outbox, written in the same
 * transaction: per order in commit order, at least once, and a crash between commit and publish loses nothing.
 * The delivery (positions, stream time, dead letters, retries, acknowledgement, rebuild) is the engine's,
 * {@link Projector}.
 */
@ApplicationScoped
public class OrdersProjector implements Replayable<OrdersTopicEvent> {

    public static final String CHANNEL = "orders";
    public static final String PROCESSED_ORDERS = "processed-orders";
    /** The class of the order-id advisory locks ("ORDR"), see {@link OrderTable#LOCK_ORDER_IDS}. */
    public static final int ORDER_LOCKS = 0x4f524452;

    @Inject
    Projector engine;
    @Inject
    Instance<OrdersReadModel> derived;
    @Inject
    Instance<CancelDecider> deciders;
    @Inject
    ReadModelStops stops;
    @ConfigProperty(name = "readside.orders.processed-orders-topic")
    String processedOrdersTopic;

    @ConfigProperty(name = "mp.messaging.incoming." + CHANNEL + ".group.id")
    String group;
    @ConfigProperty(name = "mp.messaging.incoming." + CHANNEL + ".topic")
    String topic;
    @ConfigProperty(name = "readside.orders.max-total")
    BigDecimal maxTotal;
    @ConfigProperty(name = "readside.orders.max-clock-skew")
    Duration maxClockSkew;

    private List<OrdersReadModel> readModels;

    @PostConstruct
    void init() {
        readModels = derived.stream().sorted(Comparator.comparing(OrdersReadModel::name)).toList();
        if (deciders.isAmbiguous()) { // at start, not at the first cancel, which would fail on every retry
            throw new IllegalStateException("more than one CancelDecider: " + deciders.stream().toList());
        }
    }

    /**
     * A poll of topic orders: one transaction, published while the next poll is written, acknowledged once published
     * (see {@link Projector}).
     */
    @Incoming(CHANNEL)
    public Uni<Void> applyBatch(KafkaRecordBatch<byte[], byte[]> polled) {
        return engine.apply(this, polled);
    }

    /** One record on its own: a batch of one, the same path. */
    public Uni<Void> apply(ConsumerRecord<byte[], byte[]> record) {
        return engine.apply(this, record);
    }

    /**
     * An order's event time may be at most {@code readside.orders.max-clock-skew} ahead of the record's Kafka
     * timestamp (when its producer sent it, or, with {@code LogAppendTime}, when the broker wrote it): an event time
     * from a clock that runs ahead would otherwise move the partition's stream time and close windows for everybody.
     * (A record without a timestamp, from a pre-0.10 producer, has no bound.)
     */
    @Override
    public OrdersTopicEvent parse(ConsumerRecord<byte[], byte[]> record) {
        Instant latest = record.timestamp() < 0 ? null : Instant.ofEpochMilli(record.timestamp()).plus(maxClockSkew);
        return OrdersTopicEvent.parse(record.key(), record.value(), new OrderEvent.Limits(maxTotal, latest));
    }

    @Override
    public Instant eventTime(OrdersTopicEvent event) {
        return event instanceof OrderEvent order ? order.createdAt() : null;
    }

    /** A cancel request is a saga step between versions: written on its own, in offset order. */
    @Override
    public boolean alone(OrdersTopicEvent event) {
        return event instanceof CancelRequested;
    }

    @Override
    public Uni<Committed> write(SqlConnection conn, Batch<OrdersTopicEvent> batch) {
        if (batch.inputs().size() == 1 && batch.inputs().get(0).event() instanceof CancelRequested cancel) {
            return cancel(conn, cancel, batch.inputs().get(0).record(), batch.live());
        }
        List<Batch.Input<OrderEvent>> versions = new ArrayList<>(batch.inputs().size());
        for (Batch.Input<OrdersTopicEvent> input : batch.inputs()) {
            versions.add(new Batch.Input<>((OrderEvent) input.event(), input.record(), input.streamTime()));
        }
        String[] ids = versions.stream().map(input -> input.event().orderId()).distinct().toArray(String[]::new);
        Uni<Void> locked = batch.live() ? OrderTable.lock(conn, ids) : Uni.createFrom().voidItem();
        return locked.chain(() -> OrderTable.previous(conn, ids)).flatMap(previous -> {
            OrderVersions.Folded folded = OrderVersions.fold(previous, versions, batch.processedAt());
            if (folded.changes().isEmpty()) {
                return Uni.createFrom().item(Committed.NOTHING);
            }
            Committed published = Committed.publishing(folded.changes().stream()
                    .map(change -> processed(change.after(), change.processedAt())).toList());
            ConsumerRecord<?, ?> first = batch.inputs().get(0).record();
            String where = ProjectionMetrics.where(first) + (batch.inputs().size() == 1 ? ""
                    : " (the first of a batch of " + batch.inputs().size() + " records)");
            return OrderTable.upsert(conn, folded.rows().values())
                    .chain(() -> stops.each(conn, readModels, batch.live(),
                            model -> model.apply(conn, folded.changes(), batch),
                            () -> ReadModelBacklog.changes(folded.changes()), where))
                    .map(published::and);
        });
    }

    /**
     * A cancel request: the saga decides (live only), then every read model hears of it with the version it cancels
     * and the decision, in the same transaction.
     */
    private Uni<Committed> cancel(SqlConnection conn, CancelRequested cancel, ConsumerRecord<?, ?> source,
            boolean live) {
        String[] id = { cancel.orderId() };
        Uni<Void> locked = live ? OrderTable.lock(conn, id) : Uni.createFrom().voidItem();
        return locked.chain(() -> OrderTable.previous(conn, id)).flatMap(previous -> {
            Uni<CancelDecider.Decided> decided = !live || deciders.isUnsatisfied()
                    ? Uni.createFrom().item(new CancelDecider.Decided(OrderCancel.Decision.NOT_DECIDED,
                            Committed.NOTHING))
                    : deciders.get().decide(conn, cancel, source);
            return decided.flatMap(decision -> {
                OrderCancel told = new OrderCancel(cancel, previous.get(cancel.orderId()), decision.decision());
                return stops.each(conn, readModels, live, model -> model.cancelRequested(conn, told, source, live),
                        () -> ReadModelBacklog.cancel(told, source.partition(), source.offset()),
                        ProjectionMetrics.where(source)).map(decision.committed()::and);
            });
        });
    }

    private Output processed(OrderEvent order, Instant processedAt) {
        return new Output(processedOrdersTopic, order.orderId().getBytes(StandardCharsets.UTF_8),
                processedOrder(order, processedAt));
    }

    /**
     * The order as received (its bytes: numbers as written, unknown fields kept) plus {@code processed_at} (epoch
     * seconds with microseconds, as the guide's times) and {@code "status":"processed"}, which replace members of
     * those names.
     */
    static byte[] processedOrder(OrderEvent order, Instant at) {
        String processedAt = BigDecimal.valueOf(at.getEpochSecond()).add(BigDecimal.valueOf(at.getNano(), 9))
                .setScale(6, RoundingMode.UNNECESSARY).toPlainString();
        Map<String, String> added = new LinkedHashMap<>();
        added.put("processed_at", processedAt);
        added.put("status", "\"processed\"");
        return ExactJson.withMembers(order.value(), added);
    }

    /** An order last written from another partition, or from a later record of this one. */
    static final String NEWER_VERSION_APPLIED = """
            SELECT EXISTS (SELECT 1 FROM orders
                            WHERE order_id = $1 AND (source_partition <> $2 OR source_offset > $3))""";

    @Override
    public Uni<Boolean> newerVersionApplied(SqlClient client, byte[] key, int partition, long offset) {
        String orderId = key == null ? null : new String(key, StandardCharsets.UTF_8);
        if (orderId == null || orderId.indexOf('\u0000') >= 0) { // no order id holds NUL (nor can PostgreSQL text)
            return Uni.createFrom().item(false);
        }
        return client.preparedQuery(NEWER_VERSION_APPLIED)
                .execute(Tuple.of(orderId, partition, offset))
                .map(rows -> rows.iterator().next().getBoolean(0));
    }

    @Override
    public String channel() {
        return CHANNEL;
    }

    @Override
    public String readModel() {
        return "orders";
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public String group() {
        return group;
    }

    @Override
    public List<String> tables() {
        List<String> tables = new ArrayList<>(List.of("orders"));
        readModels.forEach(model -> tables.addAll(model.tables()));
        return tables;
    }

    @Override
    public Uni<Void> carryOver(SqlConnection conn, String live, String rebuilt, Instant replayedSince) {
        Uni<Void> carried = carryOverOrders(conn, live, rebuilt, replayedSince);
        if (replayedSince != null) { // the switch: every read model's replayed tables hold what its backlog held
            carried = carried.chain(() -> ReadModelStops.forget(conn,
                    readModels.stream().map(OrdersReadModel::name).toList()));
        }
        for (OrdersReadModel model : readModels) {
            carried = carried.chain(() -> model.carryOver(conn, live, rebuilt, replayedSince));
        }
        return carried;
    }

    /** The orders table's own carry-over: when each version was first processed, and the saga's state. */
    Uni<Void> carryOverOrders(SqlConnection conn, String live, String rebuilt, Instant replayedSince) {
        Uni<Void> held = replayedSince == null ? Uni.createFrom().voidItem()
                : conn.query("LOCK TABLE " + live + ".orders IN EXCLUSIVE MODE").execute().replaceWithVoid();
        return held
                .chain(() -> conn.preparedQuery(OrderTable.KEEP_PROCESSED_AT.formatted(live, rebuilt))
                        .execute(Tuple.of(replayedSince == null ? null : OrderTable.utc(replayedSince))))
                .chain(() -> conn.query(OrderTable.KEEP_SAGA_STATE.formatted(live, rebuilt)).execute())
                .replaceWithVoid();
    }

    /** The read models derived from orders, in their lock order. */
    List<OrdersReadModel> readModels() {
        return readModels;
    }

    /** Each read model derived from orders that has tables can be rebuilt alone ({@link ReadModelAlone}). */
    @Override
    public List<Replayable<?>> parts() {
        return readModels.stream().filter(model -> !model.tables().isEmpty())
                .<Replayable<?>> map(model -> new ReadModelAlone(this, model)).toList();
    }
}
