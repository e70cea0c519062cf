package io.readside.commands;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.UUID;
import java.util.function.LongPredicate;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.readside.projection.outbox.Outbox;
import io.readside.projection.InvalidRecordException;
import io.readside.projection.tracing.TraceHeaders;
import io.readside.orders.OrderEvent;
import io.readside.orders.OrderStatus;
import io.readside.orders.OrdersProjector;
import io.readside.orders.OrdersTopicEvent;
import io.readside.values.Quote;
import io.readside.web.ProblemException;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The command side: a command becomes an event in the outbox, in one transaction with its idempotency key; the
 * relay publishes it to topic {@code orders}, and the orders projector applies it like any other producer's record.
 * The outbox row keeps the request's trace context, so the relay's record carries it on
 * (docs/operations.md, "Tracing").
 */
@ApplicationScoped
public class OrderCommands {

    static final String FIND_KEY = """
            SELECT request_hash, order_id, outbox_id FROM idempotency_keys WHERE idempotency_key = $1""";

    /** Waits for a concurrent request with the same key to commit; then inserts nothing. */
    static final String CLAIM_KEY = """
            INSERT INTO idempotency_keys (idempotency_key, request_hash, order_id, outbox_id) VALUES ($1, $2, $3, $4)
            ON CONFLICT (idempotency_key) DO NOTHING""";

    static final String ORDER_STATUS = "SELECT status, user_id FROM orders WHERE order_id = $1";

    /** An order the read model has not applied yet may still be in the outbox (or on its way from it). */
    static final String CREATED_IN_OUTBOX = """
            SELECT (payload::jsonb ->> 'user_id')::bigint AS user_id FROM outbox
            WHERE message_key = $1 AND event_type = 'order.created' AND topic = $2 LIMIT 1""";

    /** What a command left: the order it is about and the outbox row that carries it. */
    public record Accepted(String orderId, long outboxId, boolean replayed) {
    }

    /** Thrown inside the transaction when the idempotency key was taken meanwhile: it rolls back. */
    private static final class KeyTaken extends RuntimeException {
        KeyTaken() {
            super(null, null, false, false);
        }
    }

    @Inject
    Pool pool;
    @Inject
    ObjectMapper mapper;

    @ConfigProperty(name = "mp.messaging.incoming." + OrdersProjector.CHANNEL + ".topic")
    String ordersTopic;
    @ConfigProperty(name = "readside.orders.max-total")
    BigDecimal maxTotal;
    @ConfigProperty(name = "readside.orders.max-clock-skew")
    Duration maxClockSkew;

    public BigDecimal maxTotal() {
        return maxTotal;
    }

    /** {@code order.created} with a new order id. */
    public Uni<Accepted> place(PlaceOrder command, String idempotencyKey, String request) {
        String orderId = UUID.randomUUID().toString();
        ObjectNode event = event(OrdersTopicEvent.CREATED, orderId);
        event.put("user_id", command.userId());
        event.put("category", command.category());
        if (command.items() != null) {
            ArrayNode items = event.putArray("items");
            command.items().forEach(item -> {
                ObjectNode line = items.addObject().put("sku", item.sku()).put("qty", item.qty());
                if (item.price() != null) {
                    line.put("price", item.price());
                }
            });
        }
        event.put("total", command.total());
        String value = event.toString();
        accepted(orderId, value);
        TraceHeaders trace = TraceHeaders.current(); // the request's, taken here: the transaction runs elsewhere
        return once(idempotencyKey, request, orderId,
                conn -> Outbox.add(conn, ordersTopic, orderId, OrdersTopicEvent.CREATED, value, trace));
    }

    /**
     * What the command side accepts, the projector accepts: the event about to go out is read by the projector's own
     * parser ({@link OrdersTopicEvent#parse}), so that a 202 never turns into a dead letter.
     *
     * @throws ProblemException 400 with the projector's reason
     */
    private void accepted(String orderId, String value) {
        try {
            OrdersTopicEvent.parse(orderId.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8),
                    new OrderEvent.Limits(maxTotal, Instant.now().plus(maxClockSkew)));
        } catch (InvalidRecordException e) {
            throw ProblemException.badRequest("the order would be refused by the read model: " + e.getMessage());
        }
    }

    /**
     * {@code order.cancel_requested}, for an order that exists (in the read model or still in the outbox), whose owner
     * {@code mayCancel} accepts (else 404, as if it did not exist), and that is not cancelled already; the saga decides
     * the rest (a paid order is refunded).
     */
    public Uni<Accepted> cancel(String orderId, LongPredicate mayCancel, String idempotencyKey, String request) {
        ObjectNode event = event(OrdersTopicEvent.CANCEL_REQUESTED, orderId);
        String value = event.toString();
        accepted(orderId, value);
        TraceHeaders trace = TraceHeaders.current();
        return once(idempotencyKey, request, orderId, conn -> conn.preparedQuery(ORDER_STATUS)
                .execute(Tuple.of(orderId))
                .flatMap(rows -> {
                    if (rows.size() == 1) {
                        Row order = rows.iterator().next();
                        if (!mayCancel.test(order.getLong("user_id"))) {
                            throw ProblemException.notFound("No order " + Quote.of(orderId));
                        }
                        OrderStatus status = OrderStatus.valueOf(order.getString("status"));
                        if (status == OrderStatus.CANCELLED || status == OrderStatus.REFUND_REQUESTED
                                || status == OrderStatus.REFUNDED) {
                            throw new ProblemException(409, "Conflict",
                                    "order " + Quote.of(orderId) + " is " + status + " already");
                        }
                        return Uni.createFrom().voidItem();
                    }
                    return conn.preparedQuery(CREATED_IN_OUTBOX).execute(Tuple.of(orderId, ordersTopic))
                            .invoke(created -> {
                                if (created.size() == 0
                                        || !mayCancel.test(created.iterator().next().getLong("user_id"))) {
                                    throw ProblemException.notFound("No order " + Quote.of(orderId));
                                }
                            }).replaceWithVoid();
                })
                .chain(() -> Outbox.add(conn, ordersTopic, orderId, OrdersTopicEvent.CANCEL_REQUESTED, value,
                        trace)));
    }

    private ObjectNode event(String type, String orderId) {
        ObjectNode event = mapper.createObjectNode();
        event.put("event_id", UUID.randomUUID().toString());
        event.put("type", type);
        event.put("order_id", orderId);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        event.put("timestamp", BigDecimal.valueOf(now.getEpochSecond()).add(BigDecimal.valueOf(now.getNano(), 9))
                .setScale(6));
        return event;
    }

    private interface Write {
        Uni<Long> outboxRow(SqlConnection conn);
    }

    /** The write, once per idempotency key: a retry (same key, same request) gets the first result. */
    private Uni<Accepted> once(String key, String request, String orderId, Write write) {
        if (key == null) {
            return pool.withTransaction(write::outboxRow).map(id -> accepted(orderId, id));
        }
        String hash = sha256(request);
        return earlier(key, hash).flatMap(earlier -> earlier != null ? Uni.createFrom().item(earlier)
                : pool.withTransaction(conn -> write.outboxRow(conn).flatMap(id -> conn.preparedQuery(CLAIM_KEY)
                        .execute(Tuple.of(key, hash, orderId, id))
                        .map(claimed -> {
                            if (claimed.rowCount() == 0) {
                                throw new KeyTaken();
                            }
                            return accepted(orderId, id);
                        })))
                        .onFailure(KeyTaken.class).recoverWithUni(() -> earlier(key, hash)));
    }

    private static Accepted accepted(String orderId, long outboxId) {
        return new Accepted(orderId, outboxId, false);
    }

    /** The first result for this key; null if none; 422 if the key was used for another request. */
    private Uni<Accepted> earlier(String key, String hash) {
        return pool.preparedQuery(FIND_KEY).execute(Tuple.of(key)).map(rows -> {
            if (rows.size() == 0) {
                return null;
            }
            Row row = rows.iterator().next();
            if (!row.getString("request_hash").equals(hash)) {
                throw new ProblemException(422, "Idempotency key reused",
                        "Idempotency-Key " + Quote.of(key) + " was used for a different request; use a new key for a new request");
            }
            return new Accepted(row.getString("order_id"), row.getLong("outbox_id"), true);
        });
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
