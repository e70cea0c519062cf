package io.readside.projection.consistency;

import java.util.Arrays;
import java.util.List;

import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import io.readside.projection.query.ReplicaWaits;
import io.readside.security.Caller;
import io.readside.web.ProblemException;
import io.readside.web.ProblemMapper;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;

/**
 * Holds a GET on a {@link ConsistentReads} resource that carries a consistency token until its read model has
 * applied the write; without a token the request goes on at once. A client that goes away while it waits ends its
 * wait: its place is free for others at once, not at {@code readside.consistency.max-wait}.
 */
public class ConsistencyFilter {

    /** The status of a request whose client went away before the answer (nginx's, not IANA's). */
    static final int CLIENT_CLOSED_REQUEST = 499;

    @Inject
    ConsistencyGate gate;
    @Inject
    Caller caller;
    @Inject
    Instance<ReadModelsBehind> behind;
    @Inject
    ReplicaWaits replicas;

    /** A read model behind is not a matter of seconds: a client asks again after a minute. */
    static final int BEHIND_RETRY_AFTER_SECONDS = 60;

    @ServerRequestFilter
    public Uni<Response> awaitConsistency(ContainerRequestContext request, ResourceInfo resource,
            RoutingContext exchange) {
        ConsistentReads reads = resource.getResourceClass() == null ? null
                : resource.getResourceClass().getAnnotation(ConsistentReads.class);
        if (reads == null || !HttpMethod.GET.equals(request.getMethod())) {
            return Uni.createFrom().nullItem();
        }
        String text = request.getHeaderString(ConsistencyToken.HEADER);
        if (text == null) {
            text = request.getUriInfo().getQueryParameters().getFirst(ConsistencyToken.QUERY_PARAMETER);
        }
        if (text == null) {
            return Uni.createFrom().nullItem();
        }
        List<String> channels = Arrays.asList(reads.value());
        List<String> models = Arrays.asList(reads.readModels());
        String token = text;
        Context context = Vertx.currentContext(); // the request's own, where its resource method runs
        // after the wait: a read model that stopped or is not filled has not applied the write, whatever the position
        // then, on replicas, the queries go to one that has replayed all of that, or to the primary
        Uni<Void> wait = Uni.createFrom().deferred(() -> gate.await(ConsistencyToken.parse(token), channels,
                caller.name(), left -> (models.isEmpty() || behind.isUnsatisfied() ? Uni.createFrom().voidItem()
                        : behind.get().behind(models).invoke(why -> why.ifPresent(reason -> {
                            throw new ProblemException(503, "Not yet consistent", reason
                                    + ": its answer may not include the write; try again later",
                                    BEHIND_RETRY_AFTER_SECONDS);
                        })).replaceWithVoid()).chain(() -> replicas.route(exchange, context, left))));
        // a client that hangs up ends its wait there and then, and gives its place back (the wait is cancelled); its
        // request ends with 499 (nginx's "client closed request") instead of reaching the query nobody reads
        // (once the answer is sent the handler runs too, and completes nothing: the race is long over)
        Uni<Response> hangUp = Uni.createFrom().emitter(gone -> {
            exchange.addEndHandler(ended -> gone.complete(Response.status(CLIENT_CLOSED_REQUEST).build()));
            if (exchange.response().closed()) { // gone before this filter ran: the end handlers were already called
                gone.complete(Response.status(CLIENT_CLOSED_REQUEST).build());
            }
        });
        return Uni.combine().any().of(wait.replaceWith((Response) null), hangUp)
                .onFailure(ProblemException.class)
                .recoverWithItem(e -> ProblemMapper.response((ProblemException) e).toResponse());
    }
}
