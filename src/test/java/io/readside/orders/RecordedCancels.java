package io.readside.orders;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.readside.projection.Batch;
import io.readside.projection.Committed;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * A read model that exists only in the tests: it keeps no table and records every cancel it is told of, as a read
 * model derived from orders sees them.
 */
@ApplicationScoped
public class RecordedCancels implements OrdersReadModel {

    public record Told(OrderCancel cancel, boolean live) {
    }

    private final List<Told> told = new CopyOnWriteArrayList<>();

    @Override
    public String name() {
        return "zz-recorded-cancels"; // last in the lock order
    }

    @Override
    public List<String> tables() {
        return List.of();
    }

    @Override
    public Uni<Committed> apply(SqlConnection conn, List<OrderChange> changes, Batch<?> batch) {
        return Uni.createFrom().item(Committed.NOTHING);
    }

    @Override
    public Uni<Committed> cancelRequested(SqlConnection conn, OrderCancel cancel, ConsumerRecord<?, ?> source,
            boolean live) {
        // recorded once the transaction commits: a retried transaction tells the model again
        return Uni.createFrom().item(Committed.counting(() -> told.add(new Told(cancel, live))));
    }

    /** What the read model was told of one order's cancels, in order. */
    public List<Told> of(String orderId) {
        return told.stream().filter(t -> t.cancel().request().orderId().equals(orderId)).toList();
    }
}
