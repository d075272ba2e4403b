import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SegmentStatementMemory, canReplaySegmentMemory, replaySegmentMemory } from '../../src/cli/parse-segment-memory.js';
import { type CarriedStatement, StatementOnceTracker } from '../../src/parse/statement-once-tracker.js';

/** One operation of the event builder on its statement memory. */
type Op =
  | { kind: 'remember'; session: number; statementId: number; substatementId: number }
  | { kind: 'recall'; session: number; statementId: number; substatementId: number }
  | { kind: 'forget'; session: number };

/** What each recall answered (its statement, or null), in order. */
type Answers = (string | null)[];

/** Runs `ops` on one tracker, as one parser of the whole file does. */
function runWhole(ops: Op[], maxSessions: number, maxSubstatements: number): Answers {
  const tracker = new StatementOnceTracker(maxSessions, maxSubstatements);
  const answers: Answers = [];
  ops.forEach((op, k) => {
    if (op.kind === 'remember') tracker.remember(op.session, op.statementId, op.substatementId, carriedOf(k));
    else if (op.kind === 'recall') answers.push(tracker.recall(op.session, op.statementId, op.substatementId)?.statement ?? null);
    else tracker.forget(op.session);
  });
  return answers;
}

/**
 * Runs `ops` cut at `cuts` as `parseOnTwoThreads` does: each segment on a fresh
 * `SegmentStatementMemory`, then replayed in order on the file's tracker, completing the recalls
 * the segment could not answer; a segment that cannot be replayed is run again on the file's
 * tracker itself. Returns the answers and how many segments were replayed.
 */
function runInSegments(ops: Op[], cuts: number[], maxSessions: number, maxSubstatements: number): { answers: Answers; replayed: number } {
  const fileMemory = new StatementOnceTracker(maxSessions, maxSubstatements);
  const answers: Answers = [];
  let replayed = 0;
  const bounds = [0, ...cuts, ops.length];
  for (let s = 0; s + 1 < bounds.length; s++) {
    const segment = ops.slice(bounds[s], bounds[s + 1]);
    const first = bounds[s] as number;
    const memory = new SegmentStatementMemory(maxSessions, maxSubstatements);
    // pieces: the answers of this segment's recalls, in order; a miss is completed by the replay
    const pieces: (string | null)[] = [];
    segment.forEach((op, k) => {
      if (op.kind === 'remember') memory.remember(op.session, op.statementId, op.substatementId, carriedOf(first + k));
      else if (op.kind === 'recall') {
        const carried = memory.recall(op.session, op.statementId, op.substatementId);
        const missed = memory.takeMissed();
        if (missed !== null) missed.piece = pieces.length;
        pieces.push(carried?.statement ?? null);
      } else memory.forget(op.session);
    });
    const log = memory.log();
    if (canReplaySegmentMemory(fileMemory, log)) {
      replaySegmentMemory(fileMemory, log, (piece, carried) => {
        pieces[piece] = carried.statement;
      });
      answers.push(...pieces);
      replayed++;
      continue;
    }
    segment.forEach((op, k) => {
      if (op.kind === 'remember') fileMemory.remember(op.session, op.statementId, op.substatementId, carriedOf(first + k));
      else if (op.kind === 'recall') answers.push(fileMemory.recall(op.session, op.statementId, op.substatementId)?.statement ?? null);
      else fileMemory.forget(op.session);
    });
  }
  return { answers, replayed };
}

/** The statement remembered by the op at index `k` (unique per op, so answers show their origin). */
function carriedOf(k: number): CarriedStatement {
  return { statement: `statement of op ${k}`, parameter: '<none>' };
}

const opArbitrary = (sessions: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('remember' as const), session: fc.nat(sessions - 1), statementId: fc.nat(3), substatementId: fc.nat(5) }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('recall' as const), session: fc.nat(sessions - 1), statementId: fc.nat(3), substatementId: fc.nat(5) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('forget' as const), session: fc.nat(sessions - 1) }) },
  );

describe('SegmentStatementMemory + replaySegmentMemory: a file cut anywhere answers as one memory', () => {
  it('any operations cut at any points give the same recall answers as one tracker (default bounds)', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary(4), { maxLength: 120 }), fc.array(fc.nat(120), { maxLength: 6 }), (ops, rawCuts) => {
        const cuts = [...new Set(rawCuts.map((c) => Math.min(c, ops.length)))].sort((a, b) => a - b);
        expect(runInSegments(ops, cuts, 10_000, 64).answers).toEqual(runWhole(ops, 10_000, 64));
      }),
      { numRuns: 2000 },
    );
  });

  it('with small bounds (3 sessions, 2 substatements), segments replayed or refused and run again answer as one tracker', () => {
    let replayed = 0;
    fc.assert(
      fc.property(fc.array(opArbitrary(5), { maxLength: 80 }), fc.array(fc.nat(80), { maxLength: 5 }), (ops, rawCuts) => {
        const cuts = [...new Set(rawCuts.map((c) => Math.min(c, ops.length)))].sort((a, b) => a - b);
        const segmented = runInSegments(ops, cuts, 3, 2);
        replayed += segmented.replayed;
        expect(segmented.answers).toEqual(runWhole(ops, 3, 2));
      }),
      { numRuns: 3000 },
    );
    // both paths were taken
    expect(replayed).toBeGreaterThan(1000);
  });

  it('a statement with more substatements than a session keeps (64), cut inside: the oldest are forgotten as on one tracker', () => {
    const ops: Op[] = [];
    for (let sub = 0; sub < 70; sub++) ops.push({ kind: 'remember', session: 1, statementId: 9, substatementId: sub });
    for (let sub = 0; sub < 70; sub++) ops.push({ kind: 'recall', session: 1, statementId: 9, substatementId: sub });
    const whole = runWhole(ops, 10_000, 64);
    expect(whole.filter((answer) => answer === null)).toHaveLength(6);
    for (const cut of [1, 30, 64, 65, 69, 70, 100]) expect(runInSegments(ops, [cut], 10_000, 64)).toEqual({ answers: whole, replayed: 2 });
  });

  it('sessions leave a replayed segment in the order they were last remembered there, so a later eviction for room picks the same one', () => {
    const ops: Op[] = [
      { kind: 'remember', session: 1, statementId: 1, substatementId: 1 },
      { kind: 'remember', session: 2, statementId: 1, substatementId: 1 },
      { kind: 'remember', session: 2, statementId: 2, substatementId: 1 }, // session 2 replaced
      { kind: 'remember', session: 1, statementId: 1, substatementId: 2 }, // session 1 still dependent, remembered last
      // second segment: two more sessions; the fourth forgets the least recently remembered (session 2)
      { kind: 'remember', session: 3, statementId: 1, substatementId: 1 },
      { kind: 'remember', session: 4, statementId: 1, substatementId: 1 },
      { kind: 'recall', session: 2, statementId: 2, substatementId: 1 },
      { kind: 'recall', session: 1, statementId: 1, substatementId: 2 },
    ];
    const whole = runWhole(ops, 3, 64);
    expect(whole).toEqual([null, 'statement of op 3']);
    expect(runInSegments(ops, [4], 3, 64)).toEqual({ answers: whole, replayed: 1 });
  });

  it('a segment that could make the file memory forget a session for room is refused, not replayed approximately', () => {
    const tracker = new StatementOnceTracker(3, 64);
    tracker.remember(1, 1, 1, carriedOf(0));
    tracker.remember(2, 1, 1, carriedOf(1));
    const memory = new SegmentStatementMemory();
    memory.remember(3, 1, 1, carriedOf(2));
    expect(canReplaySegmentMemory(tracker, memory.log())).toBe(false);
    const small = new SegmentStatementMemory();
    expect(canReplaySegmentMemory(tracker, small.log())).toBe(true);
  });

  it('the log names only what the main thread needs: dependent operations until a session is replaced', () => {
    const memory = new SegmentStatementMemory();
    expect(memory.recall('a', 5, 1)).toBeNull();
    expect(memory.takeMissed()).toEqual({ session: 'a', statementId: 5, substatementId: 1, carried: null, piece: -1 });
    memory.remember('a', 5, 2, carriedOf(1));
    memory.remember('a', 6, 1, carriedOf(2)); // a second statement id: replaced
    memory.remember('a', 6, 2, carriedOf(3));
    expect(memory.recall('a', 6, 3)).toBeNull(); // after the replacement: final, not logged
    expect(memory.takeMissed()).toBeNull();
    memory.forget('b');
    const log = memory.log();
    expect(log.sessionCount).toBe(2);
    expect(log.dependent).toEqual([
      { session: 'a', statementId: 5, substatementId: 1, carried: null, piece: -1 },
      { session: 'a', statementId: 5, substatementId: 2, carried: carriedOf(1), piece: -1 },
    ]);
    expect(log.forgotten).toEqual(['b']);
    expect(log.held).toEqual([
      {
        replaced: true,
        entry: { session: 'a', statementId: 6, substatements: [{ substatementId: 1, carried: carriedOf(2) }, { substatementId: 2, carried: carriedOf(3) }] },
      },
    ]);
  });
});
