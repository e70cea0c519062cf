package io.readside.testing;

import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;

/**
 * The SDK's in-memory span exporter as a CDI bean: Quarkus exports every finished span to it besides (or, with no
 * OTLP endpoint, instead of) the OTLP exporter. An alternative, selected by {@link TracedCommands} only, so that the
 * other tests' applications keep no spans in memory.
 */
@Alternative
@Singleton
public class InMemorySpans {

    @Produces
    @Singleton
    @Alternative
    InMemorySpanExporter exporter() {
        return InMemorySpanExporter.create();
    }
}
