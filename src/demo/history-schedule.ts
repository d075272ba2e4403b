/**
 * When and how often each corpus role works in the synthetic history (`generateSyntheticHistory`).
 * Hours are UTC (the corpus's log_timezone). Session counts are per day before the day's random
 * volume factor and before the event budget thins `app_web` (the bulk role).
 */
export interface RoleSchedule {
  role: string;
  /** where the role's template sessions come from: its normal corpus sessions, or an attack's sessions */
  templates: { normalRole: string } | { attack: string };
  /** expected sessions on a Monday-Friday */
  weekdaySessions: number;
  /** expected sessions on a Saturday or Sunday */
  weekendSessions: number;
  /** 24 relative weights: the chance that a session starts in each UTC hour */
  hourWeights: readonly number[];
  /** only active in the first `activeWeeks` weeks of the history (dormant accounts); null = always */
  activeWeeks: number | null;
  /** true when the budget may thin this role's sessions to keep within `maxEvents` */
  thinnable: boolean;
}

/** Office hours: sessions start 08:00-17:59 UTC, fewer at 08 and over lunch (12), a tail at 17. */
export const OFFICE_HOURS: readonly number[] = hours({ 8: 0.6, 9: 1, 10: 1, 11: 1, 12: 0.6, 13: 1, 14: 1, 15: 1, 16: 1, 17: 0.7 });

/** A public web shop: busy in the day, quieter in the evening, little at night. */
const WEB_HOURS: readonly number[] = hours({
  0: 0.15, 1: 0.1, 2: 0.1, 3: 0.1, 4: 0.1, 5: 0.15, 6: 0.3, 7: 0.6, 8: 0.9, 9: 1, 10: 1, 11: 1, 12: 1, 13: 1, 14: 1, 15: 1,
  16: 1, 17: 1, 18: 0.9, 19: 0.8, 20: 0.7, 21: 0.5, 22: 0.35, 23: 0.25,
});

/** The report job: runs once the shop's day closes, 17:00-18:59 UTC (the corpus run has it at 17:2x). */
const REPORT_HOURS: readonly number[] = hours({ 17: 1, 18: 1 });

/** The schedule of every role of the corpus's normal traffic, plus dormant_ops (first week only). */
export const ROLE_SCHEDULES: readonly RoleSchedule[] = [
  { role: 'app_web', templates: { normalRole: 'app_web' }, weekdaySessions: 60, weekendSessions: 30, hourWeights: WEB_HOURS, activeWeeks: null, thinnable: true },
  { role: 'support_budi', templates: { normalRole: 'support_budi' }, weekdaySessions: 40, weekendSessions: 10, hourWeights: OFFICE_HOURS, activeWeeks: null, thinnable: false },
  { role: 'support_sari', templates: { normalRole: 'support_sari' }, weekdaySessions: 40, weekendSessions: 10, hourWeights: OFFICE_HOURS, activeWeeks: null, thinnable: false },
  { role: 'analyst', templates: { normalRole: 'analyst' }, weekdaySessions: 3, weekendSessions: 0, hourWeights: OFFICE_HOURS, activeWeeks: null, thinnable: false },
  { role: 'bi_readonly', templates: { normalRole: 'bi_readonly' }, weekdaySessions: 6, weekendSessions: 0, hourWeights: OFFICE_HOURS, activeWeeks: null, thinnable: false },
  { role: 'app_batch', templates: { normalRole: 'app_batch' }, weekdaySessions: 2, weekendSessions: 2, hourWeights: REPORT_HOURS, activeWeeks: null, thinnable: false },
  { role: 'dba_admin', templates: { normalRole: 'dba_admin' }, weekdaySessions: 3, weekendSessions: 0, hourWeights: OFFICE_HOURS, activeWeeks: null, thinnable: false },
  { role: 'dormant_ops', templates: { attack: 'A9' }, weekdaySessions: 0.6, weekendSessions: 0, hourWeights: OFFICE_HOURS, activeWeeks: 1, thinnable: false },
];

/** 24 weights from a sparse hour → weight map (missing hours weigh 0). */
function hours(weights: Record<number, number>): number[] {
  return Array.from({ length: 24 }, (_, hour) => weights[hour] ?? 0);
}
