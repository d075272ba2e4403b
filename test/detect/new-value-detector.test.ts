import { beforeEach, describe, expect, it } from 'vitest';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { CONTEXT, at, kindIs, makeEvent, makeRule, resetEventIds } from './detector-fixtures.js';

function newClientEngine(): DetectionEngine {
  const rule = makeRule({ id: 'jaga.auth.new_client', type: 'new_value', params: { fields: ['client_addr'], learn: '1h' }, selections: { sel_login: kindIs('authorization') }, groupBy: ['user'] });
  return new DetectionEngine([rule], CONTEXT);
}

function login(seconds: number, user: string, client: string): AccessEvent {
  return makeEvent({ time: at(seconds), kind: 'authorization', user, client_addr: client });
}

function run(engine: DetectionEngine, events: AccessEvent[]) {
  return events.flatMap((event) => engine.process(event));
}

describe('NewValueDetector', () => {
  beforeEach(resetEventIds);

  it('never fires during the learning period, even for values first seen in it', () => {
    const found = run(newClientEngine(), [login(0, 'analyst', '127.0.0.1'), login(600, 'analyst', '127.0.0.3'), login(3599, 'bob', '10.0.0.1')]);
    expect(found).toEqual([]);
  });

  it('fires once for a value never seen for the group after learning, then has learned it', () => {
    const engine = newClientEngine();
    const found = run(engine, [login(0, 'analyst', '127.0.0.1'), login(3600, 'analyst', '127.0.0.1'), login(3700, 'analyst', '127.0.0.3'), login(3800, 'analyst', '127.0.0.3')]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      group: { user: 'analyst' },
      count: 1,
      firstSeen: at(3700),
      explanation: { new_values: [{ client_addr: '127.0.0.3' }], fields: ['client_addr'], learn: '1h', learning_until: at(3600) },
      summary: 'Test new_value: new client_addr=127.0.0.3 for user=analyst',
    });
  });

  it('learns per group: an address known for one role is new for another', () => {
    const found = run(newClientEngine(), [login(0, 'analyst', '127.0.0.1'), login(4000, 'analyst', '127.0.0.1'), login(4001, 'dormant_ops', '127.0.0.1')]);
    expect(found.map((detection) => detection.group)).toEqual([{ user: 'dormant_ops' }]);
  });
});
