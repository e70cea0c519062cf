package io.readside.projection.tracing;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.MDC;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.smallrye.mutiny.Uni;

/**
 * One span per batch, never one per record: a consumer's poll ({@code process <topic>}) and the outbox relay's batch
 * ({@code publish}). A batch of one record is the child of the context in its {@code traceparent} header (or outbox
 * row); a batch of many links to each record's context instead, since a span has one parent. Records without a
 * (valid) {@code traceparent} add nothing. At most {@code quarkus.otel.span.link.count.limit} links (the SDK drops
 * the rest anyway), so a batch's cost in tracing is bounded whatever its size.
 */
@ApplicationScoped
public class BatchSpans {

    static final AttributeKey<String> SYSTEM = AttributeKey.stringKey("messaging.system");
    static final AttributeKey<String> OPERATION = AttributeKey.stringKey("messaging.operation.type");
    static final AttributeKey<String> DESTINATION = AttributeKey.stringKey("messaging.destination.name");
    static final AttributeKey<String> GROUP = AttributeKey.stringKey("messaging.consumer.group.name");
    static final AttributeKey<Long> COUNT = AttributeKey.longKey("messaging.batch.message_count");
    /** Records of the batch with a trace context that did not fit in the links. */
    static final AttributeKey<Long> LINKS_DROPPED = AttributeKey.longKey("readside.links_dropped");
    static final AttributeKey<String> DB_SYSTEM = AttributeKey.stringKey("db.system.name");

    private static final TextMapGetter<Headers> KAFKA_HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Headers headers) {
            return () -> java.util.Arrays.stream(headers.toArray()).map(Header::key).iterator();
        }

        @Override
        public String get(Headers headers, String key) {
            Header header = headers == null ? null : headers.lastHeader(key);
            return header == null || header.value() == null ? null
                    : new String(header.value(), StandardCharsets.ISO_8859_1);
        }
    };

    @Inject
    Tracer tracer;

    @ConfigProperty(name = "quarkus.otel.span.link.count.limit", defaultValue = "128")
    int maxLinks;

    /** The span of a consumer's batch ({@code process <topic>}); the caller ends it. */
    public Span consumed(String topic, String group, List<ConsumerRecord<byte[], byte[]>> records) {
        SpanBuilder span = tracer.spanBuilder("process " + topic).setSpanKind(SpanKind.CONSUMER)
                .setAttribute(SYSTEM, "kafka").setAttribute(OPERATION, "process").setAttribute(DESTINATION, topic)
                .setAttribute(GROUP, group).setAttribute(COUNT, (long) records.size());
        if (records.size() == 1) {
            // the one record's trace continues here, tracestate included
            Context parent = BoundedTraceContext.INSTANCE.extract(Context.root(), records.get(0).headers(),
                    KAFKA_HEADERS);
            return span.setParent(parent).startSpan();
        }
        span.setNoParent();
        linkAll(span, records.stream().map(record -> record.headers().lastHeader(TraceHeaders.TRACEPARENT))
                .map(header -> header == null ? null : header.value()).toList());
        return span.startSpan();
    }

    /**
     * The span of an outbox relay batch ({@code publish}, or {@code publish <topic>} when all its rows go to one
     * topic), linked to or, for one row, the child of the trace context each row was written with (null: none).
     */
    public Span published(String topic, List<String> traceparents) {
        SpanBuilder span = tracer.spanBuilder(topic == null ? "publish" : "publish " + topic)
                .setSpanKind(SpanKind.PRODUCER).setAttribute(SYSTEM, "kafka").setAttribute(OPERATION, "send")
                .setAttribute(COUNT, (long) traceparents.size());
        if (topic != null) {
            span.setAttribute(DESTINATION, topic);
        }
        span.setNoParent();
        if (traceparents.size() == 1) {
            SpanContext parent = parse(traceparents.get(0));
            if (parent != null) {
                span.setParent(Context.root().with(Span.wrap(parent)));
            }
            return span.startSpan();
        }
        linkAll(span, traceparents.stream()
                .map(traceparent -> traceparent == null ? null : traceparent.getBytes(StandardCharsets.ISO_8859_1))
                .toList());
        return span.startSpan();
    }

    /**
     * Links the span to each {@code traceparent} (null or unreadable ones skipped), at most
     * {@code quarkus.otel.span.link.count.limit}; how many more there were goes to an attribute. Parses only what it
     * links.
     */
    private void linkAll(SpanBuilder span, List<byte[]> traceparents) {
        long links = 0;
        long dropped = 0;
        for (byte[] traceparent : traceparents) {
            if (traceparent == null) {
                continue;
            }
            if (links >= maxLinks) {
                dropped++;
                continue;
            }
            SpanContext linked = TraceParent.parse(traceparent);
            if (linked != null) {
                span.addLink(linked);
                links++;
            }
        }
        if (dropped > 0) {
            span.setAttribute(LINKS_DROPPED, dropped);
        }
    }

    private static SpanContext parse(String traceparent) {
        return traceparent == null ? null : TraceParent.parse(traceparent.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** {@code work} (a read model's transaction) in a span of its own, child of {@code batch}, one per attempt. */
    public <T> Uni<T> transaction(Span batch, String name, Supplier<Uni<T>> work) {
        return Uni.createFrom().deferred(() -> {
            Span span = tracer.spanBuilder(name).setParent(Context.root().with(batch))
                    .setAttribute(DB_SYSTEM, "postgresql").startSpan();
            return ended(work.get(), span);
        });
    }

    /** Ends {@code span} when {@code work} ends: with its failure, or cancelled. */
    public static <T> Uni<T> ended(Uni<T> work, Span span) {
        return work.onItemOrFailure().invoke((item, failure) -> {
            if (failure != null) {
                span.recordException(failure);
                span.setStatus(StatusCode.ERROR);
            }
            span.end();
        }).onCancellation().invoke(span::end);
    }

    /**
     * Puts the span's ids into the logging context of this thread (the keys Quarkus uses for requests: traceId,
     * spanId, sampled), for the lines a relay or consumer thread writes about a batch; close it after.
     */
    public static LogIds logIds(Span span) {
        SpanContext context = span.getSpanContext();
        if (!context.isValid()) {
            return LogIds.NONE;
        }
        MDC.put("traceId", context.getTraceId());
        MDC.put("spanId", context.getSpanId());
        MDC.put("sampled", Boolean.toString(context.isSampled()));
        return LogIds.SET;
    }

    /** Removes the ids {@link #logIds} put. */
    public enum LogIds implements AutoCloseable {
        NONE, SET;

        @Override
        public void close() {
            if (this == SET) {
                MDC.remove("traceId");
                MDC.remove("spanId");
                MDC.remove("sampled");
            }
        }
    }
}
