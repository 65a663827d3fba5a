-- The list endpoint serves each row's wire JSON from text rendered once at write time:
--   wire_head || coalesce(read_at_wire, 'null') || wire_tail
-- Rows written before this migration keep NULLs and are rendered by SQL at read time instead.
ALTER TABLE inbox_notifications ADD COLUMN wire_head TEXT;
ALTER TABLE inbox_notifications ADD COLUMN wire_tail TEXT;
ALTER TABLE inbox_notifications ADD COLUMN read_at_wire TEXT;
