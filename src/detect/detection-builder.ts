import { createHash } from 'node:crypto';
import type { AccessEvent } from '../domain/access-event.js';
import type { Detection, DetectionEntity, EvidenceItem } from '../domain/detection.js';
import { formatDuration } from '../lib/duration.js';
import type { CompiledRule, MatchContext } from './compiled-rule.js';
import { evidenceOf, type EventDigest } from './event-digest.js';
import { GroupKeyer } from './group-keyer.js';

/** Most evidence items a detection carries (Detection.evidence: a bounded sample). */
export const MAX_EVIDENCE_ITEMS = 20;

/** What a detector knows when it fires; `buildDetection` turns it into a Detection. */
export interface DetectionParts {
  rule: CompiledRule;
  /** canonical JSON of the group values (GroupKeyer) */
  groupKey: string;
  /** contributing events, oldest first, or the newest of them when more contributed (may be empty for `absence` before any event) */
  events: readonly EventDigest[];
  /** number of contributing events (at least `events.length` when older ones were summarised) */
  count: number;
  /** id of the event whose arrival fired the detection, or a deterministic token (absence: `silence:<deadline ms>`) */
  triggerId: string;
  /** event time of the earliest contributing event (absence: start of the silence), epoch ms */
  firstSeenMs: number;
  /** event time of the latest contributing event (absence: when the silence reached `after`), epoch ms */
  lastSeenMs: number;
  /** server when no event names one (absence before any event); default '' */
  server?: string;
  /** data classes of all contributing events when `events` is a sample; default: the union over `events` */
  dataClasses?: readonly string[];
  /** type-specific reasons: counts vs thresholds, window, matched selections */
  explanation: Record<string, unknown>;
  /** the measured part of the summary, without literals, e.g. `12 events within 1m (threshold 10)` */
  measure: string;
}

/**
 * DetectionParts whose `explanation` and `measure` are computed only when the detection is built
 * (not when the gate hides it, as most repeats are): `describe` is called at most once, synchronously
 * within `buildDetection`.
 */
export interface DeferredDetectionParts extends Omit<DetectionParts, 'explanation' | 'measure'> {
  describe: () => Pick<DetectionParts, 'explanation' | 'measure'>;
}

/**
 * Lets the detection engine hide a detection before it is built (most repeats are suppressed, and
 * building one costs a sha256, evidence and summary). `hides` gets the suppression key and the
 * lastSeen (epoch ms) and returns true when it counted the detection as hidden.
 */
export interface BuildGate {
  hides(ruleId: string, server: string, groupKey: string, lastSeenMs: number): boolean;
}

/**
 * Stands for a detection the gate hid: `buildDetection` returns it instead of building one, only
 * while a gate is set (by the engine, around one detector call); the engine drops it. Never seen
 * outside the engine.
 */
export const HIDDEN_DETECTION: Detection = Object.freeze({}) as Detection;

let gate: BuildGate | null = null;
/** the largest epoch ms a Date holds (ECMA-262 TimeClip): beyond it `toISOString` throws, so no gating */
const MAX_TIME_MS = 8.64e15;

/**
 * Sets (or clears, with null) the gate `buildDetection` consults; the engine sets it around one
 * detector call and clears it right after (synchronously), so detectors used alone never see one.
 */
export function setBuildGate(next: BuildGate | null): void {
  gate = next;
}

/**
 * Builds a Detection (src/domain/detection.ts) from what a detector saw:
 * - `id`: sha256 hex of detector id, group key, the first contributing event's id and `triggerId`
 *   (deterministic: the same events give the same id after a restart or a replay);
 * - `entity`: for each of user, database, client_addr, application_name the most recent non-null
 *   value among the events; `server` likewise (or `parts.server`);
 * - `evidence`: the events' redacted evidence items, all when at most 20, else the 10 oldest and
 *   the 10 newest (oldest first); never statement text, parameters, messages or details;
 * - `dataClasses`: the union of `parts.dataClasses` and the events' catalog classes, sorted;
 * - `explanation`: `{type, condition, group_by, ...parts.explanation}`;
 * - `summary`: `<title>: <measure>[ for <field>=<value>, ...]`, one line;
 * with DeferredDetectionParts, `explanation` and `measure` are `parts.describe()`'s, asked only here.
 * While the engine's gate is set and hides it, returns HIDDEN_DETECTION instead (see `BuildGate`).
 * Never throws for well-formed parts.
 */
export function buildDetection(parts: DetectionParts | DeferredDetectionParts): Detection {
  const { rule, events } = parts;
  if (gate !== null && Number.isInteger(parts.lastSeenMs) && Math.abs(parts.lastSeenMs) <= MAX_TIME_MS && gate.hides(rule.id, latestServer(events) ?? parts.server ?? '', parts.groupKey, parts.lastSeenMs)) {
    return HIDDEN_DETECTION;
  }
  const described = 'describe' in parts ? parts.describe() : parts;
  const group = GroupKeyer.groupOf(parts.groupKey);
  const firstId = events[0]?.event_id ?? 'none';
  const id = createHash('sha256').update(`${rule.id}\n${parts.groupKey}\n${firstId}\n${parts.triggerId}`).digest('hex');
  const classes = new Set<string>(parts.dataClasses);
  for (const event of events) for (const dataClass of event.data_classes) classes.add(dataClass);
  return {
    id,
    detectorId: rule.id,
    title: rule.title,
    severity: rule.severity,
    maturity: rule.maturity,
    tags: [...rule.tags],
    server: latestServer(events) ?? parts.server ?? '',
    group,
    groupKey: parts.groupKey,
    entity: entityOf(events),
    firstSeen: new Date(parts.firstSeenMs).toISOString(),
    lastSeen: new Date(parts.lastSeenMs).toISOString(),
    count: parts.count,
    evidence: sampleEvidence(events),
    dataClasses: [...classes].sort(),
    explanation: { type: rule.type, condition: rule.conditionText, group_by: [...rule.groupBy], ...described.explanation },
    summary: `${rule.title}: ${described.measure}${groupText(group)}`,
    score: null,
  };
}

/** Names of the rule's selections that `event` matches, in the rule's order (for explanations). */
export function matchedSelections(rule: CompiledRule, event: AccessEvent, context: MatchContext): string[] {
  const names: string[] = [];
  for (const [name, predicate] of rule.selections) if (predicate(event, context)) names.push(name);
  return names;
}

/** `60000` → `1m`, for summaries and explanations. */
export function durationText(ms: number): string {
  return formatDuration(ms);
}

function entityOf(events: readonly EventDigest[]): DetectionEntity {
  const entity: DetectionEntity = { user: null, database: null, client_addr: null, application_name: null };
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i] as EventDigest;
    entity.user ??= event.user;
    entity.database ??= event.database;
    entity.client_addr ??= event.client_addr;
    entity.application_name ??= event.application_name;
  }
  return entity;
}

function latestServer(events: readonly EventDigest[]): string | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const server = (events[i] as EventDigest).server;
    if (server !== '') return server;
  }
  return null;
}

function sampleEvidence(events: readonly EventDigest[]): EvidenceItem[] {
  if (events.length <= MAX_EVIDENCE_ITEMS) return events.map(evidenceOf);
  const half = MAX_EVIDENCE_ITEMS / 2;
  return [...events.slice(0, half), ...events.slice(events.length - half)].map(evidenceOf);
}

function groupText(group: Record<string, string | number | null>): string {
  const parts = Object.entries(group).map(([field, value]) => `${field}=${value === null ? 'null' : String(value)}`);
  return parts.length === 0 ? '' : ` for ${parts.join(', ')}`;
}
