-- POST /orders/{id}/cancel for an order the read model has not applied yet looks for its order.created row here;
-- without the index an unknown id would scan the whole outbox.
CREATE INDEX outbox_created_orders ON outbox (message_key) WHERE event_type = 'order.created';
