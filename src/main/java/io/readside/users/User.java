package io.readside.users;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A row of the {@code users} read model, as the query side reads it (the projector writes it with SQL). */
@Entity
@Table(name = "users")
public class User {

    @Id
    @Column(name = "user_id")
    public Long userId;

    public String email;

    @Column(name = "signed_up_at")
    public Instant signedUpAt;

    @Column(name = "updated_at")
    public Instant updatedAt;
}
