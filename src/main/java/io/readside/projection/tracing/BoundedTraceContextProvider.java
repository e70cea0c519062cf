package io.readside.projection.tracing;

import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurablePropagatorProvider;

/** {@link BoundedTraceContext} by name, for {@code quarkus.otel.propagators}. */
public class BoundedTraceContextProvider implements ConfigurablePropagatorProvider {

    public static final String NAME = "readside-tracecontext";

    @Override
    public TextMapPropagator getPropagator(ConfigProperties config) {
        return BoundedTraceContext.INSTANCE;
    }

    @Override
    public String getName() {
        return NAME;
    }
}
