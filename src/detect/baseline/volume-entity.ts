import { HistoryRing, type RobustReference } from './history-ring.js';

/** No bucket (running or closed), in memory and in snapshots. */
export const NONE = -2_147_483_648;

/**
 * One baseline_volume entity (a role, or a role x sensitive table) and its running bucket: what
 * VolumeBaselineDetector folds events into and closes into its HistoryRing.
 */
export interface VolumeEntity {
  table: boolean;
  user: string;
  relation: string | null;
  classes: readonly string[];
  server: string;
  firstSeenMs: number;
  lastSeenMs: number;
  /** running bucket number, NONE when none */
  bucket: number;
  /** newest closed bucket number */
  closed: number;
  /** running bucket: judged totals, and the totals of events allowed to teach */
  rows: number;
  statements: number;
  learnRows: number;
  learnStatements: number;
  /** fired in the running bucket / fired high or critical (the bucket then does not teach) */
  fired: boolean;
  severe: boolean;
  /** pid, session and statement id of the last statement counted for the role (pgaudit logs one line per relation) */
  lastPid: number;
  lastSession: string;
  lastStatement: number;
  history: HistoryRing;
  /**
   * what each event asks of the history, kept here so the ring is read once per bucket: its
   * size, and its smallest rows and statements values (HistoryRing `lowest`; NaN until asked after
   * the last push). Set at every push (`close`) and restore.
   */
  samples: number;
  lowRows: number;
  lowStatements: number;
  /**
   * references of the running bucket for rows and for statements, computed at most once per
   * bucket (the ring changes only when one closes) and only when the measure may reach the
   * threshold; undefined until then
   */
  refBucket: number;
  rowsRef: RobustReference | null | undefined;
  statementsRef: RobustReference | null | undefined;
}

/** a new entity first seen at `timeMs`, with no bucket and an empty history */
export function newEntity(table: boolean, user: string, relation: string | null, classes: readonly string[], server: string, timeMs: number): VolumeEntity {
  return {
    table, user, relation, classes, server, firstSeenMs: timeMs, lastSeenMs: timeMs, bucket: NONE, closed: NONE,
    rows: 0, statements: 0, learnRows: 0, learnStatements: 0, fired: false, severe: false, lastPid: -1, lastSession: '', lastStatement: -1,
    history: new HistoryRing(2), samples: 0, lowRows: Number.NaN, lowStatements: Number.NaN, refBucket: NONE, rowsRef: undefined, statementsRef: undefined,
  };
}

/** the table entity of `relation` in a role's list, undefined when none */
export function tableEntity(tables: readonly VolumeEntity[], relation: string): VolumeEntity | undefined {
  for (let i = 0; i < tables.length; i++) if ((tables[i] as VolumeEntity).relation === relation) return tables[i];
  return undefined;
}

/** drops the least recently seen table entity of a role (the first of equals: oldest added); returns it */
export function dropOldest(tables: VolumeEntity[]): VolumeEntity | undefined {
  let oldest = -1;
  let oldestMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < tables.length; i++) {
    const lastSeenMs = (tables[i] as VolumeEntity).lastSeenMs;
    if (lastSeenMs < oldestMs) {
      oldestMs = lastSeenMs;
      oldest = i;
    }
  }
  return oldest >= 0 ? tables.splice(oldest, 1)[0] : undefined;
}
