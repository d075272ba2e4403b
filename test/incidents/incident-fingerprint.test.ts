import { describe, expect, it } from 'vitest';
import { INCIDENT_FINGERPRINT_LENGTH, incidentFingerprint } from '../../src/incidents/incident-fingerprint.js';

describe('incidentFingerprint', () => {
  it('is the first 32 hex characters of sha256 over the JSON array [server, detectorId, groupKey]', () => {
    // sha256('["db1","jaga.auth.brute_force","{\"user\":\"dba_admin\"}"]') = 225b7321 1dcae0f7 e1a933f6 6145e39f ...
    expect(incidentFingerprint({ server: 'db1', detectorId: 'jaga.auth.brute_force', groupKey: '{"user":"dba_admin"}' })).toBe('225b73211dcae0f7e1a933f66145e39f');
    // sha256('["db1","jaga.audit.silent","{}"]'), the fingerprint of an ungrouped rule
    const ungrouped = incidentFingerprint({ server: 'db1', detectorId: 'jaga.audit.silent', groupKey: '{}' });
    expect(ungrouped).toBe('ba68214b3dd8bbfb9e9edf26d1e9d7a1');
    expect(ungrouped).toHaveLength(INCIDENT_FINGERPRINT_LENGTH);
  });

  it('changes when any of server, detector or group changes', () => {
    const base = { server: 'db1', detectorId: 'jaga.auth.brute_force', groupKey: '{"user":"dba_admin"}' };
    const fingerprints = new Set([
      incidentFingerprint(base),
      incidentFingerprint({ ...base, server: 'db2' }),
      incidentFingerprint({ ...base, detectorId: 'jaga.auth.spray' }),
      incidentFingerprint({ ...base, groupKey: '{"user":"app"}' }),
    ]);
    expect(fingerprints.size).toBe(4);
  });

  it('keeps the parts apart: moving text between server and detector id gives another fingerprint', () => {
    expect(incidentFingerprint({ server: 'db1', detectorId: 'x.y', groupKey: '{}' })).not.toBe(incidentFingerprint({ server: 'db1x', detectorId: '.y', groupKey: '{}' }));
    expect(incidentFingerprint({ server: 'a","b', detectorId: 'c', groupKey: '{}' })).not.toBe(incidentFingerprint({ server: 'a', detectorId: 'b","c', groupKey: '{}' }));
  });
});
