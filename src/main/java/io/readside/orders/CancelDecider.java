package io.readside.orders;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.readside.projection.Committed;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * Decides the cancel requests of topic orders (a CDI bean; the payment saga is the one), live only, before the read
 * models hear of them ({@link OrderCancel}).
 */
public interface CancelDecider {

    /** The decision and what it publishes or counts after the commit. */
    record Decided(OrderCancel.Decision decision, Committed committed) {
    }

    /** Decides in the transaction that applies the request, the order's advisory lock held. */
    Uni<Decided> decide(SqlConnection conn, CancelRequested cancel, ConsumerRecord<?, ?> source);
}
