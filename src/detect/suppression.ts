import type { Detection } from '../domain/detection.js';
import { DueQueue } from './due-queue.js';
import { parseIsoTimeMs } from './event-time.js';
import type { GroupValue } from './group-keyer.js';
import { asArray, asRecord } from './snapshot-codec.js';

/**
 * What a suppression hid, reported when it ended (rules design: `suppress` per group; what it
 * hides is counted and reported, never dropped silently). Times are event times, ISO UTC.
 */
export interface SuppressionReport {
  ruleId: string;
  server: string;
  group: Record<string, GroupValue>;
  groupKey: string;
  /** detections hidden while the suppression ran (>= 1) */
  hidden: number;
  /** lastSeen of the detection that started the suppression */
  from: string;
  /** when it ended: from + suppress */
  to: string;
  /** lastSeen of the newest hidden detection */
  lastHidden: string;
  /** id of the detection that started the suppression */
  shownDetectionId: string;
}

interface Window {
  ruleId: string;
  server: string;
  groupKey: string;
  fromMs: number;
  untilMs: number;
  hidden: number;
  lastHiddenMs: number;
  shownDetectionId: string;
}

/**
 * Per-group suppression of repeated detections (rules design, `suppress`). A rule with
 * `suppressMs > 0` shows a group's detection, then hides the same rule's detections of the same
 * server and group whose lastSeen falls before `lastSeen + suppressMs` (event time), counting
 * them. When the watermark reaches the end (or the next shown detection starts a new window), a
 * window that hid something becomes a `SuppressionReport`; one that hid nothing ends silently.
 * State is JSON-serialisable (`snapshot`/`restore`).
 */
export class Suppression {
  private readonly windows = new Map<string, Window>();
  private readonly queue = new DueQueue();
  private reports: SuppressionReport[] = [];

  /** number of windows running */
  get size(): number {
    return this.windows.size;
  }

  /**
   * Decides whether `detection` is shown (true) or hidden and counted (false).
   * @param suppressMs the rule's suppress duration, ms; 0 shows everything and keeps no state
   */
  admit(detection: Detection, suppressMs: number): boolean {
    if (suppressMs <= 0) return true;
    const timeMs = parseIsoTimeMs(detection.lastSeen);
    const key = `${detection.detectorId}\n${detection.server}\n${detection.groupKey}`;
    const window = this.windows.get(key);
    if (window !== undefined && timeMs < window.untilMs) {
      window.hidden++;
      if (timeMs > window.lastHiddenMs) window.lastHiddenMs = timeMs;
      return false;
    }
    if (window !== undefined) this.end(key, window);
    const untilMs = timeMs + suppressMs;
    this.windows.set(key, {
      ruleId: detection.detectorId,
      server: detection.server,
      groupKey: detection.groupKey,
      fromMs: timeMs,
      untilMs,
      hidden: 0,
      lastHiddenMs: Number.NEGATIVE_INFINITY,
      shownDetectionId: detection.id,
    });
    this.queue.push(untilMs, key);
    return true;
  }

  /**
   * The hiding half of `admit` alone, for a detection not built yet: when a running window of
   * (`ruleId`, `server`, `groupKey`) hides a detection whose lastSeen is `timeMs` (epoch ms), counts
   * it exactly as `admit` would and returns true; otherwise changes nothing and returns false (the
   * detection is then built and goes through `admit`).
   */
  hideUnbuilt(ruleId: string, server: string, groupKey: string, timeMs: number, suppressMs: number): boolean {
    if (suppressMs <= 0) return false;
    const window = this.windows.get(`${ruleId}\n${server}\n${groupKey}`);
    if (window === undefined || !(timeMs < window.untilMs)) return false;
    window.hidden++;
    if (timeMs > window.lastHiddenMs) window.lastHiddenMs = timeMs;
    return true;
  }

  /** ends every window whose end the watermark (epoch ms) has reached */
  advance(watermarkMs: number): void {
    while (this.queue.peekDueMs() <= watermarkMs) {
      const dueMs = this.queue.peekDueMs();
      const key = this.queue.pop() as string;
      const window = this.windows.get(key);
      if (window !== undefined && window.untilMs === dueMs) this.end(key, window);
    }
  }

  /** ends the windows of rules not in `ruleIds` (a hot reload removed them), reporting what they hid */
  keepRules(ruleIds: ReadonlySet<string>): void {
    for (const [key, window] of [...this.windows.entries()]) if (!ruleIds.has(window.ruleId)) this.end(key, window);
  }

  /** ends every running window now (end of a replay), reporting those that hid something with their planned end */
  endAll(): void {
    for (const [key, window] of [...this.windows.entries()]) this.end(key, window);
    this.queue.clear();
  }

  /** the reports of windows ended since the last call, oldest first */
  takeReports(): SuppressionReport[] {
    const reports = this.reports;
    this.reports = [];
    return reports;
  }

  /** JSON-serialisable state: running windows and reports not yet taken */
  snapshot(): unknown {
    return { windows: [...this.windows.entries()], reports: this.reports };
  }

  /** @throws Error when `state` is not a snapshot of a Suppression */
  restore(state: unknown): void {
    const record = asRecord(state, 'suppression snapshot');
    const windows: [string, Window][] = [];
    for (const [i, entry] of asArray(record.windows, 'suppression snapshot.windows').entries()) {
      const pair = asArray(entry, `suppression snapshot.windows[${i}]`);
      const body = asRecord(pair[1], `suppression snapshot.windows[${i}]`);
      if (typeof pair[0] !== 'string' || typeof body.ruleId !== 'string' || typeof body.untilMs !== 'number' || typeof body.fromMs !== 'number' || typeof body.hidden !== 'number') {
        throw new Error(`suppression snapshot.windows[${i}]: not a suppression window`);
      }
      windows.push([pair[0], { ...(body as unknown as Window), lastHiddenMs: typeof body.lastHiddenMs === 'number' ? body.lastHiddenMs : Number.NEGATIVE_INFINITY }]);
    }
    const reports = asArray(record.reports, 'suppression snapshot.reports') as SuppressionReport[];
    this.windows.clear();
    this.queue.clear();
    for (const [key, window] of windows) {
      this.windows.set(key, window);
      this.queue.push(window.untilMs, key);
    }
    this.reports = [...reports];
  }

  private end(key: string, window: Window): void {
    this.windows.delete(key);
    if (window.hidden === 0) return;
    this.reports.push({
      ruleId: window.ruleId,
      server: window.server,
      group: JSON.parse(window.groupKey) as Record<string, GroupValue>,
      groupKey: window.groupKey,
      hidden: window.hidden,
      from: new Date(window.fromMs).toISOString(),
      to: new Date(window.untilMs).toISOString(),
      lastHidden: new Date(window.lastHiddenMs).toISOString(),
      shownDetectionId: window.shownDetectionId,
    });
  }
}
