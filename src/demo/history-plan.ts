import type { CorpusTemplates, TemplateSession } from './corpus-templates.js';
import { ROLE_SCHEDULES, type RoleSchedule } from './history-schedule.js';
import { SeededRandom } from './seeded-random.js';

/** One re-timed copy of a template session. */
export interface PlannedSession {
  template: TemplateSession;
  /** time of the copy's first record, epoch ms UTC */
  startMs: number;
  /** factor applied to every gap of the template (0.8-1.25: sessions are jittered in length) */
  stretch: number;
}

/** What `planHistory` decides: the sessions of the history and of the held-out day, each sorted by start. */
export interface HistoryPlan {
  history: PlannedSession[];
  heldOut: PlannedSession[];
  /** records the plan will write (history + held-out day) */
  records: number;
  /** the held-out day's UTC midnight, epoch ms, or null */
  heldOutDayMs: number | null;
}

/** Inputs of `planHistory`; see `SyntheticHistoryOptions` for their meaning. */
export interface HistoryPlanInput {
  seed: number;
  weeks: number;
  endAtMs: number;
  /** records the plan may use (the caller has taken off the corpus run) */
  recordBudget: number;
  /** seed of the held-out day, or null for none */
  heldOutSeed: number | null;
  /** the held-out day is the first Monday-Friday after this instant, epoch ms */
  heldOutAfterMs: number;
}

export const DAY_MS = 86_400_000;

/**
 * Plans the sessions of the history: for every UTC day of the `weeks` weeks before `endAtMs`
 * (and the held-out day), each role of `ROLE_SCHEDULES` gets a number of sessions drawn around its
 * weekday/weekend rate times a per-day volume factor (0.7-1.3), starting at hours drawn from its
 * hour weights; each copies a random template session of the role, stretched 0.8-1.25x. History
 * sessions that would not end before `endAtMs` are dropped. When the expected records exceed the
 * budget, the thinnable roles' rates are scaled down; any remaining excess drops random
 * thinnable sessions. Deterministic for (templates, input).
 */
export function planHistory(templates: CorpusTemplates, input: HistoryPlanInput): HistoryPlan {
  const pools = new Map<string, readonly TemplateSession[]>();
  for (const schedule of ROLE_SCHEDULES) {
    const pool = 'normalRole' in schedule.templates ? templates.normalByRole.get(schedule.templates.normalRole) : templates.attackById.get(schedule.templates.attack);
    if (pool !== undefined && pool.length > 0) pools.set(schedule.role, pool);
  }
  const firstDayMs = Math.floor(input.endAtMs / DAY_MS) * DAY_MS - input.weeks * 7 * DAY_MS;
  const days: number[] = [];
  for (let day = firstDayMs; day < input.endAtMs; day += DAY_MS) days.push(day);
  let heldOutDayMs: number | null = null;
  if (input.heldOutSeed !== null) {
    heldOutDayMs = Math.floor(input.heldOutAfterMs / DAY_MS) * DAY_MS + DAY_MS;
    while (isWeekend(heldOutDayMs)) heldOutDayMs += DAY_MS;
  }

  // Expected records, to scale the bulk role into the budget before drawing.
  let fixedRecords = 0;
  let thinnableRecords = 0;
  const plannedDays = heldOutDayMs === null ? days : [...days, heldOutDayMs];
  for (const schedule of ROLE_SCHEDULES) {
    const pool = pools.get(schedule.role);
    if (pool === undefined) continue;
    const perSession = pool.reduce((sum, session) => sum + session.records.length, 0) / pool.length;
    let expected = 0;
    for (const day of plannedDays) expected += rateOn(schedule, day, firstDayMs) * perSession;
    if (schedule.thinnable) thinnableRecords += expected;
    else fixedRecords += expected;
  }
  // Aim 10% under the budget so the draw's variance rarely needs the hard cut below.
  const target = input.recordBudget * 0.9;
  const thinScale = thinnableRecords > 0 ? Math.max(0, Math.min(1, (target - fixedRecords) / thinnableRecords)) : 1;

  const random = new SeededRandom(input.seed);
  const history: PlannedSession[] = [];
  for (const day of days) drawDay(random, day, firstDayMs, pools, thinScale, history);
  const historyKept = history.filter((session) => session.startMs + session.template.durationMs * session.stretch < input.endAtMs);
  const heldOut: PlannedSession[] = [];
  if (heldOutDayMs !== null) drawDay(new SeededRandom(input.heldOutSeed as number), heldOutDayMs, firstDayMs, pools, thinScale, heldOut);

  const cutHistory = cutToBudget(historyKept, heldOut, input.recordBudget, random);
  cutHistory.sort(byStart);
  heldOut.sort(byStart);
  return { history: cutHistory, heldOut, records: countRecords(cutHistory) + countRecords(heldOut), heldOutDayMs };
}

/** Draws one day's sessions of every role into `out`. */
function drawDay(random: SeededRandom, dayMs: number, firstDayMs: number, pools: ReadonlyMap<string, readonly TemplateSession[]>, thinScale: number, out: PlannedSession[]): void {
  for (const schedule of ROLE_SCHEDULES) {
    const pool = pools.get(schedule.role);
    const rate = rateOn(schedule, dayMs, firstDayMs);
    if (pool === undefined || rate === 0) continue;
    const volume = random.between(0.7, 1.3) * (schedule.thinnable ? thinScale : 1);
    const count = random.roundRandomly(rate * volume);
    for (let i = 0; i < count; i++) {
      const hour = random.weighted(schedule.hourWeights);
      out.push({
        template: random.pick(pool),
        startMs: dayMs + hour * 3_600_000 + Math.floor(random.next() * 3_600_000),
        stretch: random.between(0.8, 1.25),
      });
    }
  }
}

/** Expected sessions of a role on a day (0 outside its active weeks). */
function rateOn(schedule: RoleSchedule, dayMs: number, firstDayMs: number): number {
  if (schedule.activeWeeks !== null && dayMs >= firstDayMs + schedule.activeWeeks * 7 * DAY_MS) return 0;
  return isWeekend(dayMs) ? schedule.weekendSessions : schedule.weekdaySessions;
}

/** Saturday or Sunday (UTC). */
export function isWeekend(ms: number): boolean {
  const weekday = new Date(ms).getUTCDay();
  return weekday === 0 || weekday === 6;
}

/**
 * Drops random thinnable (app_web) history sessions until history + held-out fit the budget; if
 * that is not enough, drops the latest other history sessions too.
 */
function cutToBudget(history: PlannedSession[], heldOut: readonly PlannedSession[], budget: number, random: SeededRandom): PlannedSession[] {
  let excess = countRecords(history) + countRecords(heldOut) - budget;
  if (excess <= 0) return history;
  const thinnable = new Set(ROLE_SCHEDULES.filter((s) => s.thinnable).map((s) => s.role));
  const order: number[] = [];
  history.forEach((session, index) => {
    if (thinnable.has(session.template.role)) order.push(index);
  });
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  for (let i = history.length - 1; i >= 0; i--) if (!thinnable.has((history[i] as PlannedSession).template.role)) order.push(i);
  const dropped = new Set<number>();
  for (const index of order) {
    if (excess <= 0) break;
    dropped.add(index);
    excess -= (history[index] as PlannedSession).template.records.length;
  }
  return history.filter((_, index) => !dropped.has(index));
}

function countRecords(sessions: readonly PlannedSession[]): number {
  let n = 0;
  for (const session of sessions) n += session.template.records.length;
  return n;
}

function byStart(a: PlannedSession, b: PlannedSession): number {
  return a.startMs - b.startMs;
}
