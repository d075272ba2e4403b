import { describe, expect, it } from 'vitest';
import { StatementOnceTracker } from '../../src/parse/statement-once-tracker.js';

const carried = (statement: string) => ({ statement, parameter: '<none>' });

describe('StatementOnceTracker: recency order', () => {
  it('evicts in the order sessions were last remembered, skipping forgotten ones, and recall does not refresh', () => {
    const tracker = new StatementOnceTracker(3, 8);
    for (const s of ['a', 'b', 'c']) tracker.remember(s, 1, 1, carried(s));
    tracker.forget('b'); // the middle of the order
    tracker.remember('d', 1, 1, carried('d')); // room left by b: nothing evicted
    expect(tracker.size).toBe(3);
    expect(tracker.recall('a', 1, 1)).toEqual(carried('a')); // a recall, not a remember: a stays oldest
    tracker.remember('e', 1, 1, carried('e')); // evicts a
    expect([tracker.recall('a', 1, 1), tracker.recall('c', 1, 1)]).toEqual([null, carried('c')]);
    tracker.remember('c', 2, 1, carried('c2')); // c becomes the newest: d is now the oldest
    tracker.remember('f', 1, 1, carried('f')); // evicts d
    expect([tracker.recall('d', 1, 1), tracker.recall('e', 1, 1), tracker.recall('c', 2, 1), tracker.recall('f', 1, 1)]).toEqual([
      null,
      carried('e'),
      carried('c2'),
      carried('f'),
    ]);
  });

  it('forgets the newest and the only session, then starts a fresh order', () => {
    const tracker = new StatementOnceTracker(2, 8);
    tracker.remember(7, 1, 1, carried('x'));
    tracker.forget(7);
    tracker.forget(7); // unknown now: nothing happens
    expect(tracker.size).toBe(0);
    tracker.remember(8, 1, 1, carried('y'));
    tracker.remember(9, 1, 1, carried('z'));
    tracker.forget(9); // the newest
    tracker.remember(10, 1, 1, carried('w'));
    tracker.remember(11, 1, 1, carried('v')); // evicts 8
    expect([tracker.recall(8, 1, 1), tracker.recall(10, 1, 1), tracker.recall(11, 1, 1)]).toEqual([null, carried('w'), carried('v')]);
  });
});
