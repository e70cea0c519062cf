-- The partition whose stream time counted each contribution: a later version of the order that arrives on another
-- partition (its key hashes elsewhere once partitions are added) is judged by that partition's clock, so a window
-- it closed stays closed. Rows counted before this version have none and are judged by the arriving partition's clock.
ALTER TABLE revenue_contributions ADD COLUMN counted_partition int;
