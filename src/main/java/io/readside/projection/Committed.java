package io.readside.projection;

import java.util.ArrayList;
import java.util.List;

import io.smallrye.mutiny.Uni;

/**
 * What a read model does once its transaction committed: count and log what it changed ({@code counted}, run once
 * per commit, never per attempt), then publish ({@code sends}: lazy, sent at least once, retried until the broker
 * has them; the batch is acknowledged only then).
 */
public record Committed(List<Runnable> counted, List<Uni<Void>> sends) {

    public static final Committed NOTHING = new Committed(List.of(), List.of());

    public static Committed sending(List<Uni<Void>> sends) {
        return new Committed(List.of(), sends);
    }

    public static Committed counting(Runnable counted) {
        return new Committed(List.of(counted), List.of());
    }

    /** Both, this one's first. */
    public Committed and(Committed other) {
        if (other.counted.isEmpty() && other.sends.isEmpty()) {
            return this;
        }
        if (counted.isEmpty() && sends.isEmpty()) {
            return other;
        }
        List<Runnable> allCounted = new ArrayList<>(counted);
        allCounted.addAll(other.counted);
        List<Uni<Void>> allSends = new ArrayList<>(sends);
        allSends.addAll(other.sends);
        return new Committed(allCounted, allSends);
    }

    /** Every one of {@code parts}, in order. */
    public static Committed all(List<Committed> parts) {
        Committed all = NOTHING;
        for (Committed part : parts) {
            all = all.and(part);
        }
        return all;
    }
}
