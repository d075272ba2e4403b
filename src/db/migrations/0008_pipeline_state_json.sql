-- The state snapshot column becomes `json` stored out of line without compression (issue 8, the
-- full-pipeline throughput): every pipeline commit rewrites the engine snapshot (~1 MB of JSON under
-- load), and `jsonb` made the store convert it into its binary form and compress it on each commit
-- (~50-70 ms of PGlite CPU per MB, against ~25-35 ms for `json` EXTERNAL). Nothing queries into the
-- state: it is written whole and read whole by DetectorStateRepository (src/db/detector-state-repository.ts),
-- and `json` keeps the text as written, so a restored snapshot has the key order it was saved with.
-- PostgreSQL 13+ syntax only (also runs on PGlite).
ALTER TABLE jaga_pipeline_state ALTER COLUMN state TYPE json USING state::json;
ALTER TABLE jaga_pipeline_state ALTER COLUMN state SET STORAGE EXTERNAL;
