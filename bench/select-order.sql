-- pgbench: the point lookup behind GET /orders/{id}, over random existing ids
\set n random(0, :order_count - 1)
SELECT order_id, user_id, category, total, item_count, created_at, status, processed_at FROM orders WHERE order_id = 'o-' || :n;
