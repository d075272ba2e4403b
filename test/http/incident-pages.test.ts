import { describe, expect, it } from 'vitest';
import { toIncidentDetailJson, type Incident } from '../../src/domain/incident.js';
import { escapeHtml, humanDuration } from '../../src/http/html-page.js';
import { incidentDetailBody, incidentListBody } from '../../src/http/incident-pages.js';

const NOW = new Date('2026-01-02T00:00:00.000Z');

function incident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 4, fingerprint: 'f'.repeat(32), detectorId: 'jaga.data.bulk_read', title: 'Bulk read of <customers>', severity: 'critical', maturity: 'stable',
    status: 'open', version: 3, firstSeen: new Date('2026-01-01T00:00:00.000Z'), lastSeen: new Date('2026-01-01T01:00:00.000Z'), count: 2, server: 'db1',
    group: {}, entity: { user: 'app"x', database: 'crm', client_addr: '10.0.0.9', application_name: null }, tags: ['gdpr.art32'], dataClasses: ['pii'],
    explanation: {}, summary: "SELECT * FROM customers WHERE name = $1 read 'many' rows",
    evidence: [{ event_id: 'e9', time: '2026-01-01T00:00:00.000Z', kind: 'audit', user: 'app"x', client_addr: null, application_name: null, class: 'READ', command: 'SELECT', object_name: 'public.customers', fingerprint: 'abc', normalized: 'SELECT * FROM customers WHERE name = $1', rows: 5000, sqlstate: null }],
    deadlines: {
      gdpr_art33: { title: 'GDPR Art. 33', due_at: '2026-01-04T00:00:00.000Z', within_ms: 259_200_000 },
      short: { title: 'Past <due>', due_at: '2026-01-01T12:00:00.000Z', within_ms: 43_200_000 },
    },
    previousIncidentId: null, createdAt: NOW, updatedAt: NOW,
    ...overrides,
  };
}

describe('page rendering', () => {
  it('escapes the five HTML-special characters', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(escapeHtml(null)).toBe('');
  });

  it('formats durations with the two largest units', () => {
    expect([humanDuration(0), humanDuration(59_000), humanDuration(3_720_000), humanDuration(2 * 86_400_000 + 3_600_000 + 60_000), humanDuration(-90_000)]).toEqual(['0s', '59s', '1h 2m', '2d 1h', '1m 30s']);
  });

  it('lists an incident with severity, escaped title and entity, age and regulatory time left (nearest first, overdue marked)', () => {
    const html = incidentListBody([toIncidentDetailJson(incident())], NOW);
    expect(html).toContain('<span class="sev sev-critical">critical</span>');
    expect(html).toContain('<a href="/ui/incidents/4">#4 Bulk read of &lt;customers&gt;</a>');
    expect(html).toContain('<td>user app&quot;x, db crm, from 10.0.0.9</td><td>1d</td>');
    expect(html).toContain('<span class="overdue" title="Past &lt;due&gt;">short: overdue by 12h</span><br><span title="GDPR Art. 33">gdpr_art33: 2d left</span>');
  });

  it('shows an incident first seen after the page clock (a server clock ahead, a fast demo) as "in ...", not as old', () => {
    const ahead = incidentListBody([toIncidentDetailJson(incident({ firstSeen: new Date(NOW.getTime() + 258_000) }))], NOW);
    expect(ahead).toContain(`<td><span title="first seen is later than this page's clock: the server's clock runs ahead">in 4m 18s</span></td>`);
  });

  it('shows evidence as normalised statements with $n constants and no action forms for a viewer', () => {
    const detail = { ...toIncidentDetailJson(incident()), timeline: [] };
    const viewer = incidentDetailBody(detail, { canAct: false, csrfToken: 'tok' }, NOW, null);
    expect(viewer).toContain('<td>SELECT</td>\n<td>public.customers</td><td><code>SELECT * FROM customers WHERE name = $1</code></td><td>5000</td>');
    expect(viewer).not.toContain('<form');
    const responder = incidentDetailBody(detail, { canAct: true, csrfToken: 'a"b' }, NOW, 'Acknowledged.');
    expect(responder.match(/<form method="post" action="\/ui\/incidents\/4\/(\w+)">/g)).toEqual([
      '<form method="post" action="/ui/incidents/4/ack">',
      '<form method="post" action="/ui/incidents/4/resolve">',
    ]);
    expect(responder).toContain('<input type="hidden" name="_csrf" value="a&quot;b"><input type="hidden" name="version" value="3">');
  });
});
