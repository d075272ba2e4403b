-- Read positions of jaga's sources (DESIGN.md vocabulary: checkpoint).
-- One row per (source, file): a log file is identified by its FileFingerprint (src/domain/file-fingerprint.ts),
-- a table cursor source uses the fixed key 'table-cursor' and keeps its position in `cursor`.
-- Written only by CheckpointRepository (src/db/checkpoint-repository.ts). PostgreSQL 13+ syntax only.
CREATE TABLE jaga_checkpoint (
  source_id        text        NOT NULL,
  file_fingerprint text        NOT NULL,
  file_path        text        NOT NULL,
  byte_offset      bigint      NOT NULL CHECK (byte_offset >= 0),
  cursor           text        NULL,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, file_fingerprint)
);

COMMENT ON TABLE jaga_checkpoint IS 'jaga: persisted read position of each source (file fingerprint + byte offset, or table cursor)';
COMMENT ON COLUMN jaga_checkpoint.byte_offset IS 'bytes of the file acknowledged so far; never moves backwards for one fingerprint';
