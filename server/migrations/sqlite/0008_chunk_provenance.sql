-- Who sent an incremental chunk's changes, on the chunk's own row: JSON
-- {"user": ..., "device": ..., "changes": [[hash, actor], ...]}, received at `created_at`.
-- Writing it here instead of one `changes` row per change saves a row and an index entry at a
-- random place for every change stored; compaction moves it into `changes` before it deletes
-- the chunk. NULL for snapshots and for chunks stored before this column (their provenance is
-- already in `changes`).
ALTER TABLE chunks ADD COLUMN provenance TEXT;
