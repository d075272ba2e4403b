/**
 * Silences (issue 6; Alertmanager's silences): matchers that mute notifications, never incidents,
 * between a start and an end, with an author and a reason so every mute is answered for. Shared by
 * the notify stage (stores and applies them) and the HTTP stage (creates, lists and expires them).
 *
 * JSON shape (`toSilenceJson`, snake_case because it is a data format; times ISO-8601 UTC):
 * `{ id: 3, matchers: { detector: 'jaga.auth.*', severity: null, tags_any: ['attack.t1110'],
 *   entity: { user: 'app_batch' }, server: null }, starts_at: '2026-01-01T00:00:00.000Z',
 *   ends_at: '2026-01-01T04:00:00.000Z', author: 'responder:alice', reason: 'maintenance window',
 *   created_at: '…', expired_at: null, expired_by: null, state: 'active' }`
 */
import type { DetectionEntity, Severity } from './detection.js';
import type { Incident } from './incident.js';

/** Entity fields a silence can match on. */
export const SILENCE_ENTITY_FIELDS = ['user', 'database', 'client_addr', 'application_name'] as const;
export type SilenceEntityField = (typeof SILENCE_ENTITY_FIELDS)[number];

/**
 * What a silence matches. Every given (non-null) matcher must match; a silence with no matcher at all
 * is refused by the repository (it would mute everything).
 * - `detector`: the detector id, exactly, or a prefix ending in `*` (`jaga.auth.*`)
 * - `severity`: the incident's severity exactly
 * - `tags_any`: at least one of these tags is on the incident
 * - `entity`: each given field equals the incident entity's field
 * - `server`: the incident's source name exactly
 */
export interface SilenceMatchers {
  detector: string | null;
  severity: Severity | null;
  tags_any: string[] | null;
  entity: Partial<Record<SilenceEntityField, string>> | null;
  server: string | null;
}

/** A silence as stored (table `jaga_silence`, migration 0004_notifications). */
export interface Silence {
  id: number;
  matchers: SilenceMatchers;
  startsAt: Date;
  endsAt: Date;
  /** who created it, e.g. `responder:alice` */
  author: string;
  /** why (free text by a responder, never event data) */
  reason: string;
  createdAt: Date;
  /** set when expired early by hand; null otherwise */
  expiredAt: Date | null;
  expiredBy: string | null;
}

/** Where a silence is at a given time. */
export type SilenceState = 'pending' | 'active' | 'expired';

/** The JSON shape of a silence (see the file comment). */
export interface SilenceJson {
  id: number;
  matchers: SilenceMatchers;
  starts_at: string;
  ends_at: string;
  author: string;
  reason: string;
  created_at: string;
  expired_at: string | null;
  expired_by: string | null;
  state: SilenceState;
}

/** `pending` before `startsAt`, `expired` from `endsAt` or once expired by hand, else `active`. */
export function silenceState(silence: Silence, now: Date): SilenceState {
  if (silence.expiredAt !== null && silence.expiredAt.getTime() <= now.getTime()) return 'expired';
  if (now.getTime() >= silence.endsAt.getTime()) return 'expired';
  if (now.getTime() < silence.startsAt.getTime()) return 'pending';
  return 'active';
}

/** The JSON shape of a silence at `now` (state computed at that time). */
export function toSilenceJson(silence: Silence, now: Date): SilenceJson {
  return {
    id: silence.id,
    matchers: structuredClone(silence.matchers),
    starts_at: silence.startsAt.toISOString(),
    ends_at: silence.endsAt.toISOString(),
    author: silence.author,
    reason: silence.reason,
    created_at: silence.createdAt.toISOString(),
    expired_at: silence.expiredAt === null ? null : silence.expiredAt.toISOString(),
    expired_by: silence.expiredBy,
    state: silenceState(silence, now),
  };
}

/** True when the silence has at least one matcher (an empty silence would mute everything). */
export function hasAnyMatcher(matchers: SilenceMatchers): boolean {
  return (
    matchers.detector !== null ||
    matchers.severity !== null ||
    (matchers.tags_any !== null && matchers.tags_any.length > 0) ||
    (matchers.entity !== null && Object.keys(matchers.entity).length > 0) ||
    matchers.server !== null
  );
}

/** True when every given matcher matches the incident (time and expiry are not considered here). */
export function silenceMatches(matchers: SilenceMatchers, incident: Incident): boolean {
  if (!hasAnyMatcher(matchers)) return false;
  if (matchers.detector !== null && !detectorMatches(matchers.detector, incident.detectorId)) return false;
  if (matchers.severity !== null && matchers.severity !== incident.severity) return false;
  if (matchers.server !== null && matchers.server !== incident.server) return false;
  if (matchers.tags_any !== null && matchers.tags_any.length > 0 && !matchers.tags_any.some((tag) => incident.tags.includes(tag))) return false;
  if (matchers.entity !== null) {
    const entity: DetectionEntity = incident.entity;
    for (const field of SILENCE_ENTITY_FIELDS) {
      const wanted = matchers.entity[field];
      if (wanted !== undefined && entity[field] !== wanted) return false;
    }
  }
  return true;
}

function detectorMatches(pattern: string, detectorId: string): boolean {
  return pattern.endsWith('*') ? detectorId.startsWith(pattern.slice(0, -1)) : pattern === detectorId;
}
