package io.readside.commands.rest;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;

import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.jboss.resteasy.reactive.RestResponse;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkus.runtime.annotations.RegisterForReflection;
import io.readside.commands.OrderCommands;
import io.readside.commands.PlaceOrder;
import io.readside.orders.OrderEvent;
import io.readside.projection.EventJson;
import io.readside.projection.InvalidRecordException;
import io.readside.projection.consistency.ConsistencyToken;
import io.readside.values.Text;
import io.readside.web.Problem;
import io.readside.web.ProblemException;
import io.quarkus.security.Authenticated;
import io.readside.security.Caller;
import io.readside.security.Roles;
import io.smallrye.mutiny.Uni;

/**
 * Commands on orders. Each answers 202 once its event is committed to the outbox: the order is readable as soon as
 * the read model has applied it, which a GET with the returned consistency token waits for.
 */
@Path("/orders")
@Produces(MediaType.APPLICATION_JSON)
public class OrderCommandsResource {

    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    static final int MAX_KEY_LENGTH = 200;

    @Inject
    OrderCommands commands;
    @Inject
    Caller caller;

    /** The answer to an accepted command; {@code Location} and {@code X-Consistency-Token} say the same. */
    @RegisterForReflection
    public record CommandAccepted(String orderId, String consistencyToken, String location) {
    }

    /** For the user named by {@code user_id} (the token's user id), or by a {@value Roles#ORDERS_WRITER}; else 403. */
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Authenticated
    public Uni<RestResponse<CommandAccepted>> place(byte[] body, @HeaderParam(IDEMPOTENCY_KEY) String idempotencyKey) {
        PlaceOrder command = PlaceOrder.parse(json(body), commands.maxTotal());
        if (!caller.isOr(command.userId(), Roles.ORDERS_WRITER)) {
            throw new ProblemException(403, "Forbidden", "a caller without role " + Roles.ORDERS_WRITER
                    + " places orders for themselves only: user_id must be the token's user id");
        }
        return commands.place(command, key(idempotencyKey), request("POST /orders\n"
                + new String(body, StandardCharsets.UTF_8))).map(this::accepted);
    }

    /** By the order's owner or a {@value Roles#ORDERS_WRITER}; for anyone else the order does not exist (404). */
    @POST
    @Path("/{orderId}/cancel")
    @Authenticated
    public Uni<RestResponse<CommandAccepted>> cancel(@PathParam("orderId") String orderId,
            @HeaderParam(IDEMPOTENCY_KEY) String idempotencyKey) {
        String id = Problem.text("orderId", orderId, OrderEvent.MAX_ID_LENGTH);
        // settled here, on the request's thread: the predicate runs in the database's callback
        boolean writer = caller.hasRole(Roles.ORDERS_WRITER);
        OptionalLong self = caller.userId();
        return commands.cancel(id, owner -> writer || self.isPresent() && self.getAsLong() == owner, key(idempotencyKey),
                request("POST /orders/" + id + "/cancel")).map(this::accepted);
    }

    /** What an idempotency key is bound to: the request and who sent it, so that a key never answers another caller. */
    private String request(String request) {
        return "caller " + caller.name() + "\n" + request;
    }

    private RestResponse<CommandAccepted> accepted(OrderCommands.Accepted accepted) {
        String token = ConsistencyToken.ofOutbox(accepted.outboxId()).toString();
        String location = "/orders/" + accepted.orderId();
        RestResponse.ResponseBuilder<CommandAccepted> response = RestResponse.ResponseBuilder
                .<CommandAccepted> accepted()
                .entity(new CommandAccepted(accepted.orderId(), token, location))
                .location(URI.create(location))
                .header(ConsistencyToken.HEADER, token);
        if (accepted.replayed()) {
            response.header("Idempotent-Replayed", "true");
        }
        return response.build();
    }

    /** The body read as the projector reads an event: UTF-8, one JSON object, numbers as exact decimals. */
    private static JsonNode json(byte[] body) {
        if (body == null || body.length == 0) {
            throw ProblemException.badRequest("the body is empty; it must be a JSON object");
        }
        try {
            return EventJson.object(body);
        } catch (InvalidRecordException e) {
            if (InvalidRecordException.OVERSIZED.equals(e.reason())) {
                throw new ProblemException(413, "Content too large", "the body is too large: " + e.getMessage());
            }
            throw ProblemException.badRequest("the body: " + e.getMessage());
        }
    }

    private static String key(String idempotencyKey) {
        if (idempotencyKey == null) {
            return null;
        }
        String problem = Text.problem(idempotencyKey, MAX_KEY_LENGTH);
        if (problem != null) {
            throw ProblemException.badRequest(IDEMPOTENCY_KEY + " " + problem);
        }
        return idempotencyKey;
    }
}
