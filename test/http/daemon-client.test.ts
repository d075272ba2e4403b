import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonApiError, DaemonClient } from '../../src/cli/daemon-client.js';
import { detection } from '../incidents/detection-factory.js';
import { startResponder, type ResponderFixture } from './responder-harness.js';

let fx: ResponderFixture;
let baseUrl: string;

beforeAll(async () => {
  fx = await startResponder();
  await fx.raise([detection()]);
  baseUrl = await fx.server.listen();
});
afterAll(async () => {
  await fx?.close();
});

describe('DaemonClient against a running endpoint', () => {
  it('lists, shows and acknowledges an incident, and manages tokens as admin', async () => {
    const responder = new DaemonClient({ baseUrl, token: fx.tokens.responder });
    const [first] = await responder.listIncidents({ status: 'open' });
    expect([first?.status, first?.version]).toEqual(['open', 1]);
    const acked = await responder.act(first!.id, 'ack', 1, 'via cli');
    expect([acked.status, acked.version]).toEqual(['acknowledged', 2]);
    const shown = await responder.getIncident(first!.id);
    expect(shown.timeline.map((t) => [t.kind, t.actor, t.note])).toEqual([
      ['opened', 'rule:jaga.auth.brute_force', null],
      ['acknowledged', 'responder:alice', 'via cli'],
    ]);
    expect(await responder.listSilences()).toEqual([]);
    const admin = new DaemonClient({ baseUrl: `${baseUrl}/`, token: fx.tokens.admin });
    const created = await admin.createToken('dave', 'viewer');
    expect([created.name, created.role, /^jaga_/.test(created.token)]).toEqual(['dave', 'viewer', true]);
    expect((await admin.revokeToken('dave')).name).toBe('dave');
  });

  it('throws DaemonApiError with the status and code of a refusal', async () => {
    const viewer = new DaemonClient({ baseUrl, token: fx.tokens.viewer });
    await expect(viewer.act(1, 'resolve', 2)).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    const responder = new DaemonClient({ baseUrl, token: fx.tokens.responder });
    await expect(responder.act(1, 'resolve', 1)).rejects.toMatchObject({ status: 409, code: 'incident_version_conflict' });
    await expect(responder.getIncident(999)).rejects.toThrow(new DaemonApiError(404, 'incident_not_found', 'no incident with this id'));
  });
});
