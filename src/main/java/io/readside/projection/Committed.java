package io.readside.projection;

import java.util.ArrayList;
import java.util.List;

/**
 * What a read model's write decided besides its rows: what to count and log once its transaction committed
 * ({@code counted}, run once per commit, never per attempt), and what it publishes ({@code outputs}, in the order
 * they are to reach their topics). The engine writes the outputs to the outbox in the same transaction, so they
 * commit with the change or not at all; the outbox relay publishes them.
 */
public record Committed(List<Runnable> counted, List<Output> outputs) {

    public static final Committed NOTHING = new Committed(List.of(), List.of());

    public static Committed publishing(List<Output> outputs) {
        return new Committed(List.of(), outputs);
    }

    public static Committed counting(Runnable counted) {
        return new Committed(List.of(counted), List.of());
    }

    /** Both, this one's first. */
    public Committed and(Committed other) {
        if (other.counted.isEmpty() && other.outputs.isEmpty()) {
            return this;
        }
        if (counted.isEmpty() && outputs.isEmpty()) {
            return other;
        }
        List<Runnable> allCounted = new ArrayList<>(counted);
        allCounted.addAll(other.counted);
        List<Output> allOutputs = new ArrayList<>(outputs);
        allOutputs.addAll(other.outputs);
        return new Committed(allCounted, allOutputs);
    }

    /** Every one of {@code parts}, in order. */
    public static Committed all(List<Committed> parts) {
        List<Runnable> allCounted = new ArrayList<>();
        List<Output> allOutputs = new ArrayList<>();
        for (Committed part : parts) {
            allCounted.addAll(part.counted);
            allOutputs.addAll(part.outputs);
        }
        return new Committed(allCounted, allOutputs);
    }
}
