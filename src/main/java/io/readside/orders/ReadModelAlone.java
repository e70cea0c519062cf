package io.readside.orders;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.readside.projection.Batch;
import io.readside.projection.Committed;
import io.readside.projection.replay.Replayable;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * One read model derived from orders, rebuilt alone ({@code POST /admin/rebuilds/{name}}): the replay is the orders
 * changelog's own, into a shadow of every orders table (a read model's fold needs the versions the orders table
 * gives it), but only this model's tables are switched in (the shadow orders table gets its carry-over too, for
 * the model's to read, and is dropped). The orders table, the other read models and the topic's stream time stay as
 * they are.
 */
final class ReadModelAlone implements Replayable<OrdersTopicEvent> {

    private final OrdersProjector orders;
    private final OrdersReadModel model;

    ReadModelAlone(OrdersProjector orders, OrdersReadModel model) {
        this.orders = orders;
        this.model = model;
    }

    @Override
    public String readModel() {
        return model.name();
    }

    @Override
    public List<String> tables() {
        return model.tables();
    }

    /** Its rows lost with the history are those of the orders they came from. */
    @Override
    public String entityTable() {
        return orders.entityTable();
    }

    @Override
    public Optional<String> derivedFrom() {
        return Optional.of(orders.readModel());
    }

    /**
     * The rebuilt orders table gets its carry-over first (its saga state, which the model's may read; in the switch it
     * locks the live orders table). In the switch ({@code replayedSince} set, the writers held) the replay must agree
     * with the live side: the rebuilt orders are the live ones version for version, and each partition's stream time
     * is the live one. Otherwise the live orders table would later hand this model a {@code before} it never counted,
     * or the switch would move the topic's stream time for the models that stay: it is refused (the live tables stay
     * as they were).
     */
    @Override
    public Uni<Void> carryOver(SqlConnection conn, String live, String rebuilt, Instant replayedSince) {
        Uni<Void> carried = orders.carryOverOrders(conn, live, rebuilt, replayedSince);
        if (replayedSince != null) {
            carried = carried.chain(() -> conn.preparedQuery(OrderTable.DIFFERING_FROM_LIVE.formatted(live, rebuilt))
                    .execute(Tuple.of(orders.group(), orders.topic())).map(rows -> {
                        Row row = rows.iterator().next();
                        long differing = row.getLong("orders");
                        long clocks = row.getLong("stream_times");
                        if (differing > 0 || clocks > 0) {
                            throw new IllegalStateException(differing + " orders of the replayed log differ from the "
                                    + "live orders table (versions from other partitions, rows retention deleted from "
                                    + "the log, or rows from before V15 that a copy changed), and the stream time of "
                                    + clocks + " partitions (records the replay judged otherwise): " + model.name()
                                    + " is not switched in; rebuild " + orders.readModel() + " instead");
                        }
                        return null;
                    }));
        }
        if (replayedSince != null) { // the switch: its replayed tables hold what its backlog held
            carried = carried.chain(() -> ReadModelStops.forget(conn, List.of(model.name())))
                    .chain(() -> conn.query(OrderTable.KEEP_ITEMS.formatted(live, rebuilt)).execute())
                    .replaceWithVoid();
        }
        return carried.chain(() -> model.carryOver(conn, live, rebuilt, replayedSince));
    }

    @Override
    public String channel() {
        return orders.channel();
    }

    @Override
    public String topic() {
        return orders.topic();
    }

    @Override
    public String group() {
        return orders.group();
    }

    @Override
    public OrdersTopicEvent parse(ConsumerRecord<byte[], byte[]> record) {
        return orders.parse(record);
    }

    @Override
    public Instant eventTime(OrdersTopicEvent event) {
        return orders.eventTime(event);
    }

    @Override
    public boolean alone(OrdersTopicEvent event) {
        return orders.alone(event);
    }

    @Override
    public Uni<Committed> write(SqlConnection conn, Batch<OrdersTopicEvent> batch) {
        return orders.write(conn, batch);
    }

    @Override
    public Uni<Boolean> newerVersionApplied(SqlClient client, byte[] key, int partition, long offset) {
        return orders.newerVersionApplied(client, key, partition, offset);
    }

    @Override
    public String toString() {
        return "read model " + model.name() + " of topic " + orders.topic();
    }
}
