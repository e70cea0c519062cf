package io.readside.users.repository;

import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.readside.projection.query.QueryPool;
import io.readside.users.User;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/** The users' queries: a user with its order totals (an outer join: none yet is zero), on the query pool. */
@ApplicationScoped
public class UserRepository {

    static final String BY_ID = """
            SELECT u.user_id, u.email, u.signed_up_at, u.updated_at, t.order_count, t.total_spent
              FROM users u LEFT JOIN user_order_totals t ON t.user_id = u.user_id
             WHERE u.user_id = $1""";

    /** Keyset pagination: the users with an id above the cursor, in id order (the primary key's index). */
    static final String PAGE_AFTER = """
            SELECT u.user_id, u.email, u.signed_up_at, u.updated_at, t.order_count, t.total_spent
              FROM users u LEFT JOIN user_order_totals t ON t.user_id = u.user_id
             WHERE u.user_id > $1
             ORDER BY u.user_id
             LIMIT $2""";

    @Inject
    QueryPool queries;

    /** The user with this id, or null. */
    public Uni<User> findById(long userId) {
        return queries.execute(BY_ID, Tuple.of(userId))
                .map(rows -> rows.size() == 0 ? null : User.of(rows.iterator().next()));
    }

    /** At most {@code limit} users with an id above {@code after}, in id order. */
    public Uni<List<User>> pageAfter(long after, int limit) {
        return queries.execute(PAGE_AFTER, Tuple.of(after, limit)).map(rows -> {
            List<User> users = new ArrayList<>(rows.size());
            for (Row row : rows) {
                users.add(User.of(row));
            }
            return users;
        });
    }
}
