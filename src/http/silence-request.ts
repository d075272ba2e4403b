import { z } from 'zod';
import { SEVERITIES } from '../domain/detection.js';
import { hasAnyMatcher, SILENCE_ENTITY_FIELDS, type SilenceMatchers } from '../domain/silence.js';
import { parseCalendarTime } from '../lib/calendar-time.js';
import { durationProblem, parseDuration } from '../lib/duration.js';
import type { SilenceRequest } from './silence-admin.js';

/** Longest silence the API accepts (90 days, ms): a forgotten silence must end by itself. */
export const MAX_SILENCE_MS = 90 * 86_400_000;

const label = z.string().min(1).max(200);
const isoTime = z.string().refine((text) => parseCalendarTime(text, 'date-time') !== null, { message: 'expected ISO-8601' });

/**
 * Body of `POST /api/silences` (matcher semantics: src/domain/silence.ts):
 * `{ "matchers": { "detector": "jaga.auth.*", "server": "db1", "entity": { "user": "app_batch" } },
 *    "duration": "2h" | "ends_at": "2026-01-01T04:00:00Z", "starts_at": "…" (optional, default now),
 *    "reason": "maintenance window" }`.
 */
export const silenceRequestSchema = z.strictObject({
  matchers: z.strictObject({
    detector: label.nullable().optional(),
    severity: z.enum(SEVERITIES).nullable().optional(),
    tags_any: z.array(label).max(20).nullable().optional(),
    entity: z.partialRecord(z.enum(SILENCE_ENTITY_FIELDS), label).nullable().optional(),
    server: label.nullable().optional(),
  }),
  starts_at: isoTime.optional(),
  ends_at: isoTime.optional(),
  duration: z.string().refine((text) => durationProblem(text) === null, { message: 'expected a duration such as 2h' }).optional(),
  reason: z.string().trim().min(1).max(500),
});

/**
 * Turns a validated body into the port's request.
 * @returns the request, or a problem text (no matcher, both or neither of `ends_at`/`duration`,
 *   end not after start, longer than 90 days) for a 400
 */
export function toSilenceRequest(body: z.output<typeof silenceRequestSchema>, author: string, now: Date): SilenceRequest | string {
  const m = body.matchers;
  const matchers: SilenceMatchers = {
    detector: m.detector ?? null,
    severity: m.severity ?? null,
    tags_any: m.tags_any ?? null,
    entity: m.entity === undefined || m.entity === null || Object.keys(m.entity).length === 0 ? null : { ...m.entity },
    server: m.server ?? null,
  };
  if (!hasAnyMatcher(matchers)) return 'a silence needs at least one matcher (it would mute everything)';
  if ((body.ends_at === undefined) === (body.duration === undefined)) return 'give exactly one of ends_at and duration';
  const startsAt = body.starts_at === undefined ? now : new Date(Date.parse(body.starts_at));
  const endsAt = body.ends_at !== undefined ? new Date(Date.parse(body.ends_at)) : new Date(startsAt.getTime() + parseDuration(body.duration, 'duration'));
  if (endsAt.getTime() <= startsAt.getTime()) return 'the silence must end after it starts';
  if (endsAt.getTime() - startsAt.getTime() > MAX_SILENCE_MS) return 'a silence lasts at most 90 days';
  return { matchers, startsAt, endsAt, reason: body.reason, author };
}
