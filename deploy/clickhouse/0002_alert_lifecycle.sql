-- Vigie schema v2: the alert lifecycle (firing → acknowledged → resolved) and richer evidence.
-- `version` is now the alert's own state counter (1 = firing, +1 per change): under FINAL the
-- row with the highest version is the alert's current state, and a redelivered record with the
-- same version collapses into one row.
ALTER TABLE alerts ADD COLUMN fired_at_ms Int64 DEFAULT 0;
ALTER TABLE alerts ADD COLUMN updated_at_ms Int64 DEFAULT 0;
ALTER TABLE alerts ADD COLUMN group_key String DEFAULT '';
ALTER TABLE alerts ADD COLUMN silenced_by String DEFAULT '';
ALTER TABLE alerts ADD COLUMN actor String DEFAULT '';
ALTER TABLE alerts ADD COLUMN score Float64 DEFAULT 0;
ALTER TABLE alerts ADD COLUMN neutral_count UInt64 DEFAULT 0;
ALTER TABLE alerts ADD COLUMN positive_count UInt64 DEFAULT 0;
ALTER TABLE alerts ADD COLUMN top_terms Array(String) DEFAULT [];
ALTER TABLE alerts ADD COLUMN path Array(String) DEFAULT [];
