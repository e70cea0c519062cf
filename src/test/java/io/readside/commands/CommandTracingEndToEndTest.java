package io.readside.commands;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.projection.tracing.BoundedTraceContextTest;
import io.readside.orders.OrdersProjector;
import io.readside.projection.consistency.ConsistencyToken;
import io.readside.projection.tracing.TraceHeaders;
import io.readside.testing.Management;
import io.readside.testing.TestProducer;
import io.readside.testing.TopicReader;
import io.readside.testing.TracedCommands;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * One command, one trace: the HTTP request's span, the outbox row's trace context, the relay's publish span, the
 * record's {@code traceparent} header and the orders projector's batch span (with its transaction) are connected,
 * on a real broker and a real PostgreSQL, with the SDK's in-memory exporter.
 */
@QuarkusTest
@TestProfile(TracedCommands.class)
class CommandTracingEndToEndTest {

    @Inject
    io.opentelemetry.api.OpenTelemetry openTelemetry;

    private static final Duration BOUND = Duration.ofSeconds(30);

    @Inject
    InMemorySpanExporter exporter;
    @Inject
    Pool pool;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void postedOrderIsOneTraceFromRequestThroughRelayToProjectorBatch() {
        Management.given().get("/lag").then().statusCode(200); // an operator's page: not a trace of its own
        Response accepted = given().contentType(ContentType.JSON)
                .body("""
                        {"user_id":730001,"category":"books","items":[{"sku":"b-1","qty":2,"price":"6.25"}]}""")
                .post("/orders");
        accepted.then().statusCode(202);
        String orderId = accepted.jsonPath().getString("order_id");
        given().header(ConsistencyToken.HEADER, accepted.header(ConsistencyToken.HEADER)).get("/orders/" + orderId)
                .then().statusCode(200);

        // the outbox row keeps the request's trace context
        Row row = pool.preparedQuery("""
                SELECT trace_context ->> 'traceparent' AS traceparent, kafka_partition, kafka_offset FROM outbox
                 WHERE message_key = $1 AND event_type = 'order.created'""")
                .execute(Tuple.of(orderId)).await().atMost(BOUND).iterator().next();
        String traceparent = row.getString("traceparent");
        assertNotNull(traceparent, "the outbox row has no trace context");
        String traceId = traceparent.substring(3, 35);
        String commandSpanId = traceparent.substring(36, 52);

        // the record the relay published carries it as its traceparent header, byte for byte
        ConsumerRecord<byte[], byte[]> record = TopicReader.readRange(bootstrapServers, OrdersProjector.CHANNEL,
                row.getInteger("kafka_partition"), row.getLong("kafka_offset"), row.getLong("kafka_offset") + 1)
                .get(0);
        assertEquals(traceparent, new String(record.headers().lastHeader(TraceHeaders.TRACEPARENT).value(),
                StandardCharsets.US_ASCII));

        await().atMost(BOUND).untilAsserted(() -> {
            List<SpanData> spans = exporter.getFinishedSpanItems();
            // the HTTP server span is the one the row's context names
            SpanData server = only(spans, span -> span.getKind() == SpanKind.SERVER
                    && span.getSpanId().equals(commandSpanId));
            assertEquals(traceId, server.getTraceId());
            assertTrue(server.getName().startsWith("POST"), server.getName());
            // the relay's publish span: the request's child (a batch of one) or linked to it
            SpanData publish = only(spans, span -> span.getKind() == SpanKind.PRODUCER
                    && span.getName().equals("publish orders") && connected(span, traceId, commandSpanId));
            assertEquals("orders", publish.getAttributes().get(AttributeKey.stringKey("messaging.destination.name")));
            // the projector's batch span: likewise, and its transaction is its child
            SpanData batch = only(spans, span -> span.getKind() == SpanKind.CONSUMER
                    && span.getName().equals("process orders") && connected(span, traceId, commandSpanId));
            SpanData transaction = only(spans, span -> span.getName().equals("orders transaction")
                    && span.getParentSpanId().equals(batch.getSpanId()));
            assertEquals(batch.getTraceId(), transaction.getTraceId());
            assertTrue(spans.stream().noneMatch(span -> span.getName().contains("/lag")
                    || "/lag".equals(span.getAttributes().get(AttributeKey.stringKey("url.path")))), names(spans)::toString);
        });
    }

    @Test
    void recordsOfPlainProducersWithTraceparentAreLinkedFromTheBatchSpan() {
        List<String[]> contexts = new ArrayList<>();
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (TestProducer producer = new TestProducer(bootstrapServers)) {
            for (int i = 0; i < 3; i++) {
                String traceId = hex(16);
                String spanId = hex(8);
                contexts.add(new String[] { traceId, spanId });
                String orderId = "traced-" + traceId;
                List<Header> headers = List.of(new RecordHeader(TraceHeaders.TRACEPARENT,
                        ("00-" + traceId + "-" + spanId + "-01").getBytes(StandardCharsets.US_ASCII)));
                sent.add(producer.sendAsync(OrdersProjector.CHANNEL, orderId, """
                        {"order_id":"%s","user_id":730002,"category":"toys","total":3.50,"timestamp":%d}"""
                        .formatted(orderId, Instant.now().getEpochSecond()), headers));
            }
            sent.forEach(TestProducer::await);
        }
        await().atMost(BOUND).untilAsserted(() -> {
            List<SpanData> spans = exporter.getFinishedSpanItems();
            for (String[] context : contexts) {
                only(spans, span -> span.getKind() == SpanKind.CONSUMER && span.getName().equals("process orders")
                        && connected(span, context[0], context[1]));
            }
        });
    }

    /** The span is the child of the given one (a batch of one record) or links to it (a batch of many). */
    private static boolean connected(SpanData span, String traceId, String spanId) {
        if (span.getTraceId().equals(traceId) && span.getParentSpanId().equals(spanId)) {
            return true;
        }
        for (LinkData link : span.getLinks()) {
            if (link.getSpanContext().getTraceId().equals(traceId) && link.getSpanContext().getSpanId().equals(spanId)) {
                return true;
            }
        }
        return false;
    }

    private static SpanData only(List<SpanData> spans, Predicate<SpanData> which) {
        List<SpanData> found = spans.stream().filter(which).toList();
        assertEquals(1, found.size(), () -> "spans matching: " + found + " among " + names(spans));
        return found.get(0);
    }

    private static List<String> names(List<SpanData> spans) {
        return spans.stream().map(span -> span.getKind() + " " + span.getName() + " " + span.getTraceId()).toList();
    }

    private static String hex(int bytes) {
        byte[] random = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(random);
        random[0] |= 1; // never all zeros
        return HexFormat.of().formatHex(random);
    }

    /** HTTP requests are read with the bounded propagator (quarkus.otel.propagators), not OpenTelemetry's own. */
    @Test
    void theServiceReadsTraceHeadersWithTheBoundedPropagator() {
        Map<String, String> headers = Map.of("traceparent", BoundedTraceContextTest.TRACEPARENT, "tracestate",
                BoundedTraceContextTest.LONG_TRACESTATE);
        io.opentelemetry.api.trace.SpanContext read = io.opentelemetry.api.trace.Span.fromContext(openTelemetry
                .getPropagators().getTextMapPropagator().extract(io.opentelemetry.context.Context.root(), headers,
                        BoundedTraceContextTest.MAP)).getSpanContext();
        assertEquals("0af7651916cd43dd8448eb211c80319c", read.getTraceId());
        assertTrue(read.getTraceState().isEmpty(), "a tracestate over 512 characters is dropped");
    }
}
