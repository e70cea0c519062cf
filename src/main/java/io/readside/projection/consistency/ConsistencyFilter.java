package io.readside.projection.consistency;

import java.util.Arrays;
import java.util.List;

import jakarta.inject.Inject;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import io.readside.security.Caller;
import io.readside.web.ProblemException;
import io.readside.web.ProblemMapper;
import io.smallrye.mutiny.Uni;

/**
 * Holds a GET on a {@link ConsistentReads} resource that carries a consistency token until its read model has
 * applied the write; without a token the request goes on at once.
 */
public class ConsistencyFilter {

    @Inject
    ConsistencyGate gate;
    @Inject
    Caller caller;

    @ServerRequestFilter
    public Uni<Response> awaitConsistency(ContainerRequestContext request, ResourceInfo resource) {
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
        String token = text;
        return Uni.createFrom().deferred(() -> gate.await(ConsistencyToken.parse(token), channels, caller.name()))
                .replaceWith((Response) null)
                .onFailure(ProblemException.class)
                .recoverWithItem(e -> ProblemMapper.response((ProblemException) e).toResponse());
    }
}
