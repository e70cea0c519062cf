package io.readside.security;

import java.lang.reflect.Method;

import jakarta.inject.Inject;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import io.readside.web.ProblemException;
import io.readside.web.ProblemMapper;

/**
 * Applies a resource method's {@link ReadRules.CheckedBeforeWaiting} rule before the other request filters, the
 * consistency wait ({@code io.readside.projection.consistency.ConsistencyFilter}) among them. Runs after the
 * endpoint's {@code @Authenticated} / {@code @RolesAllowed} check, so the caller is known.
 */
public class ReadAuthorization {

    @Inject
    Caller caller;

    @ServerRequestFilter(priority = Priorities.AUTHORIZATION)
    public Response authorize(ContainerRequestContext request, ResourceInfo resource) {
        Method method = resource.getResourceMethod();
        ReadRules.CheckedBeforeWaiting rule = method == null ? null
                : method.getAnnotation(ReadRules.CheckedBeforeWaiting.class);
        if (rule == null) {
            return null;
        }
        try {
            switch (rule.value()) {
                case USER_PROFILE -> ReadRules.userProfile(caller,
                        request.getUriInfo().getPathParameters().getFirst("userId"));
                case ORDERS_LISTING -> ReadRules.ordersListing(caller,
                        request.getUriInfo().getQueryParameters().getFirst("userId"));
                case ORDER_VIEW -> ReadRules.orderView(caller,
                        request.getUriInfo().getPathParameters().getFirst("orderId"));
            }
            return null;
        } catch (ProblemException e) {
            return ProblemMapper.response(e).toResponse();
        }
    }
}
