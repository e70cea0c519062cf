-- The W3C trace context of the command (or projector batch) that wrote an outbox row, as the JSON object
-- {"traceparent": "00-<trace id>-<span id>-<flags>", "tracestate": "..."} (tracestate only when there is one). The
-- relay sends these as the record's Kafka headers of the same names, so the consumer continues the command's trace.
-- Null: written without a trace (tracing off, or before this migration); the record then has no trace headers.
ALTER TABLE outbox ADD COLUMN trace_context jsonb;
