import { createHash } from 'node:crypto';
import type { Detection } from '../domain/detection.js';

/** Length in hex characters of an IncidentFingerprint (128 bits of sha256). */
export const INCIDENT_FINGERPRINT_LENGTH = 32;

/**
 * The IncidentFingerprint (DESIGN.md vocabulary) of a detection: the first 32 hex characters of the
 * sha256 of the canonical JSON array `[server, detectorId, groupKey]` (UTF-8). Detections with equal
 * fingerprints merge into one live incident.
 *
 * `groupKey` is taken as given: the detector makes it canonical (Detection.groupKey: JSON of `group`
 * with its keys sorted), so equal groups give equal fingerprints.
 *
 * Example: `incidentFingerprint({ server: 'db1', detectorId: 'jaga.auth.brute_force', groupKey: '{"user":"dba_admin"}' })`
 * hashes `["db1","jaga.auth.brute_force","{\"user\":\"dba_admin\"}"]` and returns
 * `'225b73211dcae0f7e1a933f66145e39f'` (always 32 lowercase hex characters).
 */
export function incidentFingerprint(detection: Pick<Detection, 'server' | 'detectorId' | 'groupKey'>): string {
  const canonical = JSON.stringify([detection.server, detection.detectorId, detection.groupKey]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex').slice(0, INCIDENT_FINGERPRINT_LENGTH);
}
