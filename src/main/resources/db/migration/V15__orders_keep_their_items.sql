-- The orders table keeps every field of an order's latest version, items included, so that a read model folding a
-- change gets the whole previous event as its `before` (a subtractor that looks inside an order), and so that a
-- correction that changes only the items is a change. Orders stored before this keep items NULL (item_count known):
-- their next version is compared with them by item count.
ALTER TABLE orders ADD COLUMN items jsonb;
