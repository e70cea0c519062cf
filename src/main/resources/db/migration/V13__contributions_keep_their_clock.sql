-- The partition whose stream time counted each contribution: a later version of the order that arrives on another
-- partition (its key hashes elsewhere once partitions are added) is judged by that partition's clock, so a window
-- it closed stays closed. Rows counted before this version get the partition of their order's row (below).
ALTER TABLE revenue_contributions ADD COLUMN counted_partition int;

-- Until partitions are added, every version of an order is on one partition: the one its row came from counted it.
UPDATE revenue_contributions c SET counted_partition = o.source_partition FROM orders o WHERE o.order_id = c.order_id;
