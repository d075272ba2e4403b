-- Incidents (DESIGN.md vocabulary: incident) and the detections applied to them.
-- One row per incident; detections with the same IncidentFingerprint (src/incidents/incident-fingerprint.ts)
-- merge into the one open or acknowledged incident of that fingerprint (partial unique index below).
-- Written only by IncidentRepository (src/incidents/incident-repository.ts). PostgreSQL 13+ syntax only
-- (also runs on PGlite). Incident rows are the breach register: never deleted by retention.
CREATE TABLE jaga_incident (
  id                   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  fingerprint          text        NOT NULL,
  detector_id          text        NOT NULL,
  title                text        NOT NULL,
  severity             text        NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
  severity_rank        smallint    NOT NULL CHECK (severity_rank BETWEEN 0 AND 4),
  maturity             text        NOT NULL CHECK (maturity IN ('experimental', 'stable')),
  status               text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
  version              integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
  first_seen           timestamptz NOT NULL,
  last_seen            timestamptz NOT NULL,
  count                bigint      NOT NULL CHECK (count >= 0),
  server               text        NOT NULL,
  "group"              jsonb       NOT NULL DEFAULT '{}'::jsonb,
  entity               jsonb       NOT NULL,
  tags                 text[]      NOT NULL DEFAULT '{}',
  data_classes         text[]      NOT NULL DEFAULT '{}',
  explanation          jsonb       NOT NULL DEFAULT '{}'::jsonb,
  summary              text        NOT NULL,
  evidence             jsonb       NOT NULL DEFAULT '[]'::jsonb,
  deadlines            jsonb       NULL,
  previous_incident_id bigint      NULL REFERENCES jaga_incident (id),
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CHECK (first_seen <= last_seen)
);

-- At most one live (open or acknowledged) incident per fingerprint, across every agent sharing the store.
CREATE UNIQUE INDEX jaga_incident_live_fingerprint ON jaga_incident (fingerprint) WHERE status IN ('open', 'acknowledged');
-- The previous (resolved) incident of a fingerprint, and the incident queue by recency.
CREATE INDEX jaga_incident_fingerprint ON jaga_incident (fingerprint, id);
CREATE INDEX jaga_incident_last_seen ON jaga_incident (last_seen, id);

-- Every detection applied to an incident: a detection id seen again (replay after a crash) changes nothing.
CREATE TABLE jaga_incident_detection (
  detection_id text        PRIMARY KEY,
  incident_id  bigint      NOT NULL REFERENCES jaga_incident (id),
  applied_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX jaga_incident_detection_incident ON jaga_incident_detection (incident_id);

COMMENT ON TABLE jaga_incident IS 'jaga: incidents (deduplicated by fingerprint); the breach register';
COMMENT ON COLUMN jaga_incident.version IS 'optimistic concurrency: 1 when opened, +1 on every change';
COMMENT ON COLUMN jaga_incident.severity_rank IS 'index of severity in info, low, medium, high, critical (0-4): severity only rises';
COMMENT ON COLUMN jaga_incident.evidence IS 'bounded sample (at most 50) of redacted evidence items, oldest applied first; never literals, parameters or rows';
COMMENT ON COLUMN jaga_incident.previous_incident_id IS 'the last resolved incident of the same fingerprint when this one opened';
COMMENT ON TABLE jaga_incident_detection IS 'jaga: detection ids applied to incidents (idempotent replay)';
