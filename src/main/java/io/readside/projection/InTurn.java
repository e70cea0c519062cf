package io.readside.projection;

import java.util.function.Function;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * Steps of a transaction one after the other, as many as a poll has records: a stream of them, each subscribed once
 * the one before completed. A {@code Uni} chained once per item would nest one subscription in the next, and a
 * poll's 2,000 records overflow the event loop's stack (its {@code StackOverflowError} would leave the channel waiting
 * for ever).
 */
public final class InTurn {

    private InTurn() {
    }

    /** {@code step} for each item, in order; the first failure ends it. */
    public static <T> Uni<Void> each(Iterable<T> items, Function<T, Uni<?>> step) {
        return Multi.createFrom().iterable(items).onItem().transformToUniAndConcatenate(step).onItem().ignoreAsUni();
    }
}
