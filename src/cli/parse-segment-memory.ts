import {
  type CarriedStatement,
  type SessionKey,
  type StatementMemory,
  StatementOnceTracker,
  type TrackedSession,
} from '../parse/statement-once-tracker.js';

/**
 * One operation of a segment on a session whose state at the segment start the segment did not
 * know (see `SegmentStatementMemory`), for the main thread to replay on the file's own memory.
 */
export interface DependentOp {
  session: SessionKey;
  statementId: number;
  substatementId: number;
  /** what was remembered; null for a recall that found nothing (its event waits at `piece`) */
  carried: CarriedStatement | null;
  /** for a recall that found nothing: index of its event in the segment's pieces; else -1 */
  piece: number;
}

/** What a segment did to the log_statement_once memory (structured-cloneable). */
export interface SegmentMemoryLog {
  /** distinct sessions the segment remembered, recalled or forgot */
  sessionCount: number;
  /** the operations on sessions not yet replaced, in file order */
  dependent: DependentOp[];
  /** sessions the segment replaced (forgot, or moved to a second statement id) and holds no longer */
  forgotten: SessionKey[];
  /**
   * the sessions held at the segment end, least recently remembered first; `replaced`: the entry is
   * exactly the file's (substatements given), else only its recency (substatements empty)
   */
  held: { replaced: boolean; entry: TrackedSession }[];
}

/** What a segment knows of one session. */
interface SessionPhase {
  /** statement id of the session's first remember in the segment, or null before one */
  statementId: number | null;
  /**
   * true once the segment's own operations fixed the session's state whatever it was at the
   * segment start: a forget, or a remember of a second statement id (the tracker keeps only the
   * substatements of the latest statement id)
   */
  replaced: boolean;
}

/**
 * The log_statement_once memory of a segment parsed without the file before it (a fresh
 * `StatementOnceTracker`), which logs what the main thread needs to make the segment's output
 * exactly that of one parse of the whole file.
 *
 * Per session, until the segment's own operations replace its state (`SessionPhase.replaced`), the
 * answers may depend on the state at the segment start: its remembers are logged (the file's
 * memory must see them, with the substatements remembered before), and its recalls that find
 * nothing are logged with their event, which the main thread completes from the file's memory.
 * A recall that finds the substatement here finds the same in the file's memory (the substatement
 * was remembered in this segment, and only later remembers of the same session can push it out).
 * After a session is replaced, the segment's state of it is the file's.
 *
 * Exact only while neither memory forgets a session for room: `replaySegmentMemory` checks that.
 */
export class SegmentStatementMemory implements StatementMemory {
  private readonly inner: StatementOnceTracker;
  private readonly phases = new Map<SessionKey, SessionPhase>();
  private readonly dependent: DependentOp[] = [];
  /** the op of the last recall that found nothing on a session not replaced; the caller takes it */
  private missed: DependentOp | null = null;

  /**
   * @param maxSessions / @param maxSubstatements bounds of the segment's own tracker: those of the
   *   file's memory (default: `StatementOnceTracker`'s, as the event builder's)
   */
  constructor(maxSessions?: number, maxSubstatements?: number) {
    this.inner = new StatementOnceTracker(maxSessions, maxSubstatements);
  }

  remember(session: SessionKey, statementId: number, substatementId: number, carried: CarriedStatement): void {
    const phase = this.phases.get(session);
    if (phase === undefined) {
      this.phases.set(session, { statementId, replaced: false });
      this.dependent.push({ session, statementId, substatementId, carried, piece: -1 });
    } else if (!phase.replaced) {
      phase.statementId ??= statementId;
      if (phase.statementId === statementId) this.dependent.push({ session, statementId, substatementId, carried, piece: -1 });
      else phase.replaced = true;
    }
    this.inner.remember(session, statementId, substatementId, carried);
  }

  recall(session: SessionKey, statementId: number, substatementId: number): CarriedStatement | null {
    const carried = this.inner.recall(session, statementId, substatementId);
    if (carried !== null) return carried;
    let phase = this.phases.get(session);
    if (phase === undefined) {
      phase = { statementId: null, replaced: false };
      this.phases.set(session, phase);
    }
    if (!phase.replaced) {
      this.missed = { session, statementId, substatementId, carried: null, piece: -1 };
      this.dependent.push(this.missed);
    }
    return null;
  }

  forget(session: SessionKey): void {
    const phase = this.phases.get(session);
    if (phase === undefined) this.phases.set(session, { statementId: null, replaced: true });
    else phase.replaced = true;
    this.inner.forget(session);
  }

  /**
   * The recall that found nothing since the last call, if any (its `piece` is for the caller to
   * set: the event it built stays as pgaudit printed it until the main thread completes it).
   */
  takeMissed(): DependentOp | null {
    const missed = this.missed;
    this.missed = null;
    return missed;
  }

  /** What the segment did, for `replaySegmentMemory`. */
  log(): SegmentMemoryLog {
    const held: SegmentMemoryLog['held'] = [];
    const heldSessions = new Set<SessionKey>();
    for (const entry of this.inner.sessionsOldestFirst()) {
      heldSessions.add(entry.session);
      const replaced = this.phases.get(entry.session)?.replaced === true;
      held.push({ replaced, entry: replaced ? entry : { session: entry.session, statementId: entry.statementId, substatements: [] } });
    }
    const forgotten: SessionKey[] = [];
    for (const [session, phase] of this.phases) if (phase.replaced && !heldSessions.has(session)) forgotten.push(session);
    return { sessionCount: this.phases.size, dependent: this.dependent, forgotten, held };
  }
}

/**
 * True when `log` can be replayed exactly on `memory`: the sessions the segment touched could not
 * make either memory forget a session for room (the file's memory would then forget by an order the
 * segment did not see).
 */
export function canReplaySegmentMemory(memory: StatementOnceTracker, log: SegmentMemoryLog): boolean {
  return memory.size + log.sessionCount < memory.maxSessions;
}

/**
 * Applies a segment's log to the file's memory (which holds the state at the segment start), so it
 * holds the state at the segment end, and completes the segment's recalls that found nothing:
 * `answer(piece, carried)` for each that the file's memory answers, in file order.
 * Call only when `canReplaySegmentMemory(memory, log)`.
 */
export function replaySegmentMemory(memory: StatementOnceTracker, log: SegmentMemoryLog, answer: (piece: number, carried: CarriedStatement) => void): void {
  for (const op of log.dependent) {
    if (op.carried !== null) memory.remember(op.session, op.statementId, op.substatementId, op.carried);
    else {
      const carried = memory.recall(op.session, op.statementId, op.substatementId);
      if (carried !== null) answer(op.piece, carried);
    }
  }
  for (const session of log.forgotten) memory.forget(session);
  // Oldest first, so the file's memory ends with the segment's recency order after the sessions it did not touch.
  for (const { replaced, entry } of log.held) {
    if (!replaced) {
      memory.touch(entry.session);
      continue;
    }
    memory.forget(entry.session);
    for (const { substatementId, carried } of entry.substatements) memory.remember(entry.session, entry.statementId, substatementId, carried);
  }
}
