-- Detector and baseline state snapshots of each agent (issue 6: the pipeline's commit).
-- One row per (agent, component): `component` is 'engine' for the DetectionEngine snapshot
-- (src/detect/detection-engine.ts EngineState) or another stateful part (e.g. 'baselines').
-- Written only by DetectorStateRepository (src/db/detector-state-repository.ts), always in the same
-- transaction as the source checkpoints of the records the state covers, so the two never disagree.
-- PostgreSQL 13+ syntax only (also runs on PGlite).
CREATE TABLE jaga_pipeline_state (
  agent       text        NOT NULL,
  component   text        NOT NULL,
  state       jsonb       NOT NULL,
  revision    bigint      NOT NULL DEFAULT 1 CHECK (revision >= 1),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agent, component)
);

COMMENT ON TABLE jaga_pipeline_state IS 'jaga: detector/baseline state snapshot per agent, committed with the checkpoints it covers';
COMMENT ON COLUMN jaga_pipeline_state.revision IS 'number of times the row was written (1 at the first snapshot)';
