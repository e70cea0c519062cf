package io.readside.users.rest;

import java.util.List;

import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;

import io.readside.orders.OrdersProjector;
import io.readside.projection.consistency.ConsistentReads;
import io.readside.users.UsersProjector;
import io.readside.users.repository.UserRepository;
import io.readside.web.Problem;
import io.readside.web.ProblemException;
import io.quarkus.security.Authenticated;
import io.readside.security.Caller;
import io.readside.security.ReadRules;
import io.readside.security.Roles;
import io.smallrye.mutiny.Uni;

@ConsistentReads(value = {UsersProjector.CHANNEL, OrdersProjector.CHANNEL}, readModels = "user-order-totals")
@Path("/users")
@Produces(MediaType.APPLICATION_JSON)
public class UsersResource {

    static final int MAX_LIMIT = 500;

    @Inject
    UserRepository users;
    @Inject
    Caller caller;

    /** The user themselves or a {@value Roles#READER}; anyone else gets the same 404 as for a missing user. */
    @GET
    @Path("/{userId}")
    @Authenticated
    @ReadRules.CheckedBeforeWaiting(ReadRules.Rule.USER_PROFILE)
    public Uni<UserView> get(@Parameter(description = "A user id (digits)", example = "1007") @PathParam("userId") String userId) {
        long id = ReadRules.userProfile(caller, userId);
        return users.findById(id)
                .onItem().ifNull().failWith(() -> ReadRules.missingUser(id))
                .map(UserView::of);
    }

    @GET
    @RolesAllowed(Roles.READER)
    public Uni<UserPage> list(@QueryParam("limit") @DefaultValue("50") String limit,
            @QueryParam("after") @DefaultValue("0") String after) {
        int size = Problem.intBetween("limit", limit, 1, MAX_LIMIT);
        long cursor = Problem.nonNegativeLong("after", after);
        // one row more than asked tells whether a next page exists
        return users.pageAfter(cursor, size + 1).map(rows -> {
            boolean more = rows.size() > size;
            List<UserView> page = rows.stream().limit(size).map(UserView::of).toList();
            Long nextAfter = more ? page.get(page.size() - 1).userId() : null;
            String next = more ? "/users?limit=" + size + "&after=" + nextAfter : null;
            return new UserPage(page, nextAfter, next);
        });
    }
}
