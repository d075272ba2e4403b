import { HistoryRing, type RobustReference } from './history-ring.js';
import type { NumberRows } from './number-rows.js';

/** No bucket (running or closed), in memory and in snapshots. */
export const NONE = -2_147_483_648;

/**
 * An entity's numbers in its detector's NumberRows (`VolumeEntity.row`), `ENTITY_STRIDE` per row:
 * first and last seen (epoch ms, event time), the smallest rows and statements values of its
 * history (HistoryRing `lowest`; NaN until asked after the last push: set at every push and restore),
 * and the time of the running bucket's first counted event (epoch ms; NaN while it has none: the
 * detection's firstSeen).
 */
export const FIRST_SEEN_MS = 0;
export const LAST_SEEN_MS = 1;
export const LOW_ROWS = 2;
export const LOW_STATEMENTS = 3;
export const BUCKET_FIRST_MS = 4;
export const ENTITY_STRIDE = 5;

/**
 * One baseline_volume entity (a role, or a role x sensitive table) and its running bucket: what
 * VolumeBaselineDetector folds events into and closes into its HistoryRing (built by `entityOf`,
 * which puts the fields read for every event first); its time fields are in a NumberRows row (see FIRST_SEEN_MS).
 */
export interface VolumeEntity {
  /** row in the detector's entity NumberRows (freed when the entity is dropped) */
  row: number;
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
  /** the history's size, kept here so the ring is read once per bucket (set at every push and restore) */
  samples: number;
  /**
   * references of the running bucket for rows and for statements, computed at most once per
   * bucket (the ring changes only when one closes) and only when the measure may reach the
   * threshold; undefined until then
   */
  refBucket: number;
  rowsRef: RobustReference | null | undefined;
  statementsRef: RobustReference | null | undefined;
  history: HistoryRing;
  table: boolean;
  user: string;
  relation: string | null;
  classes: readonly string[];
  server: string;
}

/** a new entity first seen at `timeMs`, with no bucket and an empty history; its row is taken from `times` */
export function newEntity(table: boolean, user: string, relation: string | null, classes: readonly string[], server: string, timeMs: number, times: NumberRows): VolumeEntity {
  const row = times.add([timeMs, timeMs, Number.NaN, Number.NaN, Number.NaN]); // FIRST_SEEN_MS, LAST_SEEN_MS, LOW_ROWS, LOW_STATEMENTS, BUCKET_FIRST_MS
  return entityOf(row, table, user, relation, classes, server, new HistoryRing(2));
}

/**
 * An entity holding `history`, with no bucket, in row `row` (-1: none yet). Every entity is built
 * here, so all share one object layout (a restored one too), with the fields read for every event
 * first (the table entity's `relation` among them: a role's last table is recognised by it).
 */
export function entityOf(row: number, table: boolean, user: string, relation: string | null, classes: readonly string[], server: string, history: HistoryRing): VolumeEntity {
  return {
    row, relation, bucket: NONE, closed: NONE, rows: 0, statements: 0, learnRows: 0, learnStatements: 0, fired: false, samples: history.size, lastPid: -1, lastSession: '', lastStatement: -1,
    severe: false, refBucket: NONE, rowsRef: undefined, statementsRef: undefined, history, table, user, classes, server,
  };
}

/** the table entity of `relation` in a role's list, undefined when none */
export function tableEntity(tables: readonly VolumeEntity[], relation: string): VolumeEntity | undefined {
  for (let i = 0; i < tables.length; i++) if ((tables[i] as VolumeEntity).relation === relation) return tables[i];
  return undefined;
}

/** drops the least recently seen table entity of a role (the first of equals: oldest added) and frees its row in `times`; returns it */
export function dropOldest(tables: VolumeEntity[], times: NumberRows): VolumeEntity | undefined {
  let oldest = -1;
  let oldestMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < tables.length; i++) {
    const lastSeenMs = times.data[(tables[i] as VolumeEntity).row * ENTITY_STRIDE + LAST_SEEN_MS] as number;
    if (lastSeenMs < oldestMs) {
      oldestMs = lastSeenMs;
      oldest = i;
    }
  }
  if (oldest < 0) return undefined;
  const dropped = tables.splice(oldest, 1)[0] as VolumeEntity;
  times.free(dropped.row);
  return dropped;
}
