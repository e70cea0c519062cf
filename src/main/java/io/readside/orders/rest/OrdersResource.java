package io.readside.orders.rest;

import java.util.List;
import java.util.OptionalLong;

import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;

import io.readside.orders.OrderStatus;
import io.readside.orders.OrdersProjector;
import io.readside.orders.repository.OrderRepository;
import io.readside.projection.consistency.ConsistentReads;
import io.readside.security.Caller;
import io.readside.security.ReadRules;
import io.readside.security.Roles;
import io.readside.values.Quote;
import io.readside.web.Problem;
import io.readside.web.ProblemException;
import io.quarkus.security.Authenticated;
import io.smallrye.mutiny.Uni;

// the saga's payment results (channel "payments", commands.saga.PaymentsProjector) move an order's status; named by
// value, as the saga depends on orders and not the other way round
@ConsistentReads({OrdersProjector.CHANNEL, "payments"})
@Path("/orders")
@Produces(MediaType.APPLICATION_JSON)
public class OrdersResource {

    static final int MAX_LIMIT = 500;
    static final int MAX_ID_LENGTH = 200;

    @Inject
    OrderRepository orders;
    @Inject
    Caller caller;

    /** The order's owner or a {@value Roles#READER}; anyone else gets the same 404 as for a missing order. */
    @GET
    @Path("/{orderId}")
    @Authenticated
    @ReadRules.CheckedBeforeWaiting(ReadRules.Rule.ORDER_VIEW)
    public Uni<OrderView> get(@Parameter(description = "An order id as the orders topic keys it", example = "o-1001") @PathParam("orderId") String orderId) {
        String id = Problem.text("orderId", orderId, MAX_ID_LENGTH);
        boolean reader = caller.hasRole(Roles.READER);
        OptionalLong self = caller.userId();
        return orders.byId(id)
                .onItem().ifNull()
                .failWith(() -> ProblemException.notFound("No order " + Quote.of(id) + " in the read model"))
                .invoke(order -> {
                    if (!reader && (self.isEmpty() || self.getAsLong() != order.userId)) {
                        throw ProblemException.notFound("No order " + Quote.of(id) + " in the read model");
                    }
                })
                .map(OrderView::of);
    }

    /**
     * Orders in order id order (a stable keyset: {@code after} is the last id of the previous page). A
     * {@value Roles#READER} lists anyone's; a user lists their own, with {@code userId} set to their id (else 403).
     */
    @GET
    @Authenticated
    @ReadRules.CheckedBeforeWaiting(ReadRules.Rule.ORDERS_LISTING)
    public Uni<OrderPage> list(@QueryParam("userId") String userId, @QueryParam("status") String status,
            @QueryParam("limit") @DefaultValue("50") String limit, @QueryParam("after") @DefaultValue("") String after) {
        Long user = ReadRules.ordersListing(caller, userId);
        OrderStatus wanted = status == null ? null : Problem.oneOf("status", status, OrderStatus.class);
        int size = Problem.intBetween("limit", limit, 1, MAX_LIMIT);
        String cursor = Problem.optionalText("after", after, MAX_ID_LENGTH);
        return orders.pageAfter(cursor, user, wanted, size + 1).map(rows -> {
            List<OrderView> page = rows.stream().limit(size).map(OrderView::of).toList();
            return new OrderPage(page, rows.size() > size ? page.get(page.size() - 1).orderId() : null);
        });
    }
}
