package io.readside.users.repository;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Sort;
import io.readside.users.User;
import io.smallrye.mutiny.Uni;

@ApplicationScoped
@WithSession
public class UserRepository implements PanacheRepositoryBase<User, Long> {

    /** Keyset pagination: the users with an id above {@code after}, in id order (uses the primary key index). */
    public Uni<List<User>> pageAfter(long after, int limit) {
        return find("userId > ?1", Sort.by("userId"), after).range(0, limit - 1).list();
    }
}
