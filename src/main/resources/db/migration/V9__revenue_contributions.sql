-- The revenue read model keeps its own state, as a Kafka Streams aggregate keeps the previous value it subtracts:
-- the revenue each order has in revenue_windows now (no row when it arrived past its window's grace). Until now
-- it was kept in columns of orders, which made the orders table know the revenue model.
CREATE TABLE revenue_contributions (
    order_id     text          PRIMARY KEY,
    category     text          NOT NULL,
    window_start timestamptz   NOT NULL,
    amount       numeric(14,2) NOT NULL
);

INSERT INTO revenue_contributions (order_id, category, window_start, amount)
SELECT order_id, window_category, window_start, window_amount FROM orders WHERE window_category IS NOT NULL;

-- An instance of an older version would keep writing these columns and not the new table: dropping them makes it
-- fail loudly instead (stop every older instance before this migration runs).
ALTER TABLE orders DROP COLUMN window_category, DROP COLUMN window_start, DROP COLUMN window_amount;
