import { createHash } from 'node:crypto';
import type { IncidentChangeKind } from '../domain/incident-change.js';

/**
 * The deterministic id of an IncidentChange (src/domain/incident-change.ts): the first 32 hex characters
 * of the sha256 of the canonical JSON array `[incidentKey, kind, discriminator]` (UTF-8). `incidentKey` is
 * the incident id, except for changes made by a detection (`opened`, `updated`, `severity_raised`), which
 * key on the IncidentFingerprint: a transaction rolled back after a crash has consumed the incident id it
 * opened, so the replayed `opened` change would otherwise get another id. The same change
 * replayed after a crash gets the same id, so its timeline row is written once and a notification built
 * from it carries an id a reader can dedupe by.
 *
 * Discriminators by kind: `opened` / `updated` / `severity_raised`: the detection id; `acknowledged` /
 * `resolved` / `reopened`: the incident version acted on (`"v3"`); `escalated`: the step (`"step1"`);
 * `deadline_reminder`: `"<deadline name>:<before_ms>"`.
 *
 * Example: `incidentChangeId(7, 'acknowledged', 'v1')` hashes `[7,"acknowledged","v1"]`.
 */
export function incidentChangeId(incidentKey: number | string, kind: IncidentChangeKind, discriminator: string): string {
  return createHash('sha256').update(JSON.stringify([incidentKey, kind, discriminator]), 'utf8').digest('hex').slice(0, 32);
}
