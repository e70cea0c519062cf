package io.readside.orders;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What a stopped read model missed, as {@code read_model_backlog} keeps it (column {@code change}, jsonb): a change
 * ({@code {"kind":"change","partition":0,"offset":7,"stream_time":..,"processed_at":..,"before":{..},"after":{..}}})
 * or a cancel ({@code {"kind":"cancel","partition":..,"offset":..,"request":{..},"version":{..},"decision":..}}),
 * each version whole (items included, the record's bytes in base64 with {@code after}), money and times exact, so
 * that the model is later handed exactly what it would have been handed live. Written by Readside only.
 */
final class ReadModelBacklog {

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES).build();

    /** One entry: a change, or a cancel ({@code cancel} set, {@code change} null), with the record it came from. */
    record Entry(OrderChange change, OrderCancel cancel, int partition, long offset) {
    }

    private ReadModelBacklog() {
    }

    static List<String> changes(List<OrderChange> changes) {
        List<String> entries = new ArrayList<>(changes.size());
        for (OrderChange change : changes) {
            ObjectNode entry = MAPPER.createObjectNode().put("kind", "change").put("partition", change.partition())
                    .put("offset", change.offset()).put("stream_time", text(change.streamTime()))
                    .put("processed_at", text(change.processedAt()));
            entry.set("before", version(change.before()));
            entry.set("after", version(change.after()));
            entries.add(entry.toString());
        }
        return entries;
    }

    static List<String> cancel(OrderCancel cancel, int partition, long offset) {
        ObjectNode entry = MAPPER.createObjectNode().put("kind", "cancel").put("partition", partition)
                .put("offset", offset).put("decision", cancel.decision().name());
        entry.putObject("request").put("event_id", cancel.request().eventId())
                .put("order_id", cancel.request().orderId()).put("requested_at", text(cancel.request().requestedAt()));
        entry.set("version", version(cancel.version()));
        return List.of(entry.toString());
    }

    static Entry read(String text) {
        try {
            JsonNode entry = MAPPER.readTree(text);
            int partition = entry.get("partition").intValue();
            long offset = entry.get("offset").longValue();
            if ("cancel".equals(entry.get("kind").asText())) {
                JsonNode request = entry.get("request");
                OrderCancel cancel = new OrderCancel(new CancelRequested(request.get("event_id").asText(),
                        request.get("order_id").asText(), instant(request.get("requested_at"))),
                        event(entry.get("version")), OrderCancel.Decision.valueOf(entry.get("decision").asText()));
                return new Entry(null, cancel, partition, offset);
            }
            OrderChange change = new OrderChange(event(entry.get("before")), event(entry.get("after")), partition,
                    offset, instant(entry.get("stream_time")), instant(entry.get("processed_at")));
            return new Entry(change, null, partition, offset);
        } catch (IOException e) {
            throw new UncheckedIOException("column read_model_backlog.change is not the JSON Readside writes", e);
        }
    }

    private static ObjectNode version(OrderEvent event) {
        if (event == null) {
            return null;
        }
        ObjectNode version = MAPPER.createObjectNode().put("order_id", event.orderId()).put("user_id", event.userId())
                .put("category", event.category()).put("total", event.total()).put("item_count", event.itemCount())
                .put("items", OrderItems.write(event.items())).put("created_at", text(event.createdAt()));
        if (event.value() != null) {
            version.put("value", Base64.getEncoder().encodeToString(event.value()));
        }
        return version;
    }

    private static OrderEvent event(JsonNode version) {
        if (version == null || version.isNull()) {
            return null;
        }
        BigDecimal total = version.get("total").decimalValue();
        Integer itemCount = version.get("item_count").isNull() ? null : version.get("item_count").intValue();
        String items = version.get("items").isNull() ? null : version.get("items").asText();
        byte[] value = version.hasNonNull("value") ? Base64.getDecoder().decode(version.get("value").asText()) : null;
        return new OrderEvent(version.get("order_id").asText(), version.get("user_id").longValue(),
                version.get("category").asText(), total, itemCount, OrderItems.read(items),
                instant(version.get("created_at")), value);
    }

    private static String text(Instant instant) {
        return instant == null ? null : instant.toString();
    }

    private static Instant instant(JsonNode text) {
        return text == null || text.isNull() ? null : Instant.parse(text.asText());
    }
}
