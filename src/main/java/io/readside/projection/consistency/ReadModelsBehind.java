package io.readside.projection.consistency;

import java.util.List;
import java.util.Optional;

import io.smallrye.mutiny.Uni;

/**
 * Whether read models are behind the changelog they derive from (stopped on a failure, not yet filled), asked after a
 * consistency wait: the changelog's position says the write is applied, but not to a read model that is behind.
 * Implemented by the feature that keeps that state (a CDI bean); none: no read model is ever behind.
 */
public interface ReadModelsBehind {

    /** Why one of {@code readModels} is behind now, or empty when none is. */
    Uni<Optional<String>> behind(List<String> readModels);
}
