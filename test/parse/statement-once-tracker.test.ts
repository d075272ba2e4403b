import { describe, expect, it } from 'vitest';
import { StatementOnceTracker } from '../../src/parse/statement-once-tracker.js';

const carried = (statement: string) => ({ statement, parameter: '<none>' });

describe('StatementOnceTracker', () => {
  it('keeps a pid session (number) apart from a session id (string) with the same text', () => {
    const tracker = new StatementOnceTracker();
    tracker.remember(14460, 1, 1, carried('SELECT 1'));
    tracker.remember('14460', 1, 1, carried('SELECT 2'));
    expect(tracker.recall(14460, 1, 1)).toEqual(carried('SELECT 1'));
    expect(tracker.recall('14460', 1, 1)).toEqual(carried('SELECT 2'));
    expect(tracker.size).toBe(2);
  });

  it('forgets the substatements of an earlier statement id once a new one is remembered', () => {
    const tracker = new StatementOnceTracker();
    tracker.remember('s1', 7, 1, carried('a'));
    tracker.remember('s1', 7, 2, carried('b'));
    tracker.remember('s1', 8, 1, carried('c'));
    expect(tracker.recall('s1', 7, 2)).toBeNull();
    expect(tracker.recall('s1', 8, 1)).toEqual(carried('c'));
    expect(tracker.recall('s1', 8, 2)).toBeNull();
  });

  it('drops the oldest substatement past the limit, and a re-remembered one counts as newest', () => {
    const tracker = new StatementOnceTracker(10, 2);
    tracker.remember('s1', 1, 1, carried('a'));
    tracker.remember('s1', 1, 2, carried('b'));
    tracker.remember('s1', 1, 1, carried('a2')); // 1 moves after 2
    tracker.remember('s1', 1, 3, carried('c')); // drops 2
    expect(tracker.recall('s1', 1, 1)).toEqual(carried('a2'));
    expect(tracker.recall('s1', 1, 2)).toBeNull();
    expect(tracker.recall('s1', 1, 3)).toEqual(carried('c'));
  });

  it('evicts the least recently remembered session past maxSessions, and forgets on request', () => {
    const tracker = new StatementOnceTracker(2, 64);
    tracker.remember('a', 1, 1, carried('a'));
    tracker.remember('b', 1, 1, carried('b'));
    tracker.remember('a', 2, 1, carried('a2')); // a becomes the most recent
    tracker.remember('c', 1, 1, carried('c')); // evicts b
    expect(tracker.recall('b', 1, 1)).toBeNull();
    expect(tracker.recall('a', 2, 1)).toEqual(carried('a2'));
    tracker.forget('c');
    tracker.remember('d', 1, 1, carried('d'));
    expect(tracker.size).toBe(2);
    expect(tracker.recall('a', 2, 1)).toEqual(carried('a2'));
  });
});
