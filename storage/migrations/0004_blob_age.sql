-- When each blob was stored (milliseconds since the epoch), so input
-- images no job needs any more can be swept by age (see
-- storage/src/blobs.rs). Blobs stored before this column existed count as
-- stored at the epoch, as in sled.

ALTER TABLE blobs ADD COLUMN created_ms bigint NOT NULL DEFAULT 0;
ALTER TABLE blobs ALTER COLUMN created_ms DROP DEFAULT;
CREATE INDEX blobs_by_age ON blobs (created_ms);
