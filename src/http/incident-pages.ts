import { deadlineStatus, type IncidentJson } from '../domain/incident.js';
import type { SilenceJson } from '../domain/silence.js';
import { escapeHtml, humanDuration } from './html-page.js';
import type { IncidentWithTimelineJson } from './incident-queries.js';

/** A session's view of a page body: its role decides which forms are shown. */
export interface PageViewer {
  canAct: boolean;
  csrfToken: string;
}

function severityBadge(severity: string): string {
  return `<span class="sev sev-${escapeHtml(severity)}">${escapeHtml(severity)}</span>`;
}

function entityText(incident: IncidentJson): string {
  const e = incident.entity;
  const parts = [e.user && `user ${e.user}`, e.database && `db ${e.database}`, e.client_addr && `from ${e.client_addr}`, e.application_name && `app ${e.application_name}`];
  return parts.filter((p): p is string => typeof p === 'string' && p !== '').join(', ') || '-';
}

/** Regulatory time left as HTML: the nearest deadline first, `overdue by` once passed, `-` when none. */
function deadlinesHtml(incident: IncidentJson, now: Date): string {
  const deadlines = deadlineStatus(incident, now);
  if (deadlines.length === 0) return '-';
  return deadlines
    .map((d) =>
      d.left_ms < 0
        ? `<span class="overdue" title="${escapeHtml(d.title)}">${escapeHtml(d.name)}: overdue by ${humanDuration(d.left_ms)}</span>`
        : `<span title="${escapeHtml(d.title)}">${escapeHtml(d.name)}: ${humanDuration(d.left_ms)} left</span>`,
    )
    .join('<br>');
}

/**
 * An incident's age for the list. Event times come from the monitored server's log: when its clock
 * runs ahead of jaga's (or the demo replays faster than real time), first_seen is in the future and
 * the cell says so (`in 4m 18s`) instead of showing it as old.
 */
function ageHtml(ageMs: number): string {
  if (ageMs >= 0) return humanDuration(ageMs);
  return `<span title="first seen is later than this page's clock: the server's clock runs ahead">in ${humanDuration(-ageMs)}</span>`;
}

/** Body of `/ui/incidents`: the live incidents (severity, title, entity, age, status, regulatory time left). */
export function incidentListBody(incidents: readonly IncidentJson[], now: Date): string {
  if (incidents.length === 0) return '<h1>Open incidents</h1><p>No open or acknowledged incidents.</p>';
  const rows = incidents
    .map(
      (i) => `<tr><td>${severityBadge(i.severity)}</td><td><a href="/ui/incidents/${i.id}">#${i.id} ${escapeHtml(i.title)}</a></td>
<td>${escapeHtml(entityText(i))}</td><td>${ageHtml(now.getTime() - Date.parse(i.first_seen))}</td>
<td class="status">${escapeHtml(i.status)}</td><td>${deadlinesHtml(i, now)}</td></tr>`,
    )
    .join('\n');
  return `<h1>Open incidents</h1><table><thead><tr><th>Severity</th><th>Title</th><th>Entity</th><th>Age</th><th>Status</th><th>Regulatory time left</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function actionForm(incident: IncidentJson, action: 'ack' | 'resolve' | 'reopen', label: string, viewer: PageViewer): string {
  return `<form method="post" action="/ui/incidents/${incident.id}/${action}"><fieldset><legend>${label}</legend>
<input type="hidden" name="_csrf" value="${escapeHtml(viewer.csrfToken)}"><input type="hidden" name="version" value="${incident.version}">
<label>Note <input type="text" name="note" maxlength="2000"></label> <button type="submit" name="do" value="${action}">${label}</button></fieldset></form>`;
}

/** Body of `/ui/incidents/:id`: summary, deadlines, actions (for responders), timeline and evidence. */
export function incidentDetailBody(incident: IncidentWithTimelineJson, viewer: PageViewer, now: Date, message: string | null): string {
  const actions: string[] = [];
  if (viewer.canAct) {
    if (incident.status === 'open') actions.push(actionForm(incident, 'ack', 'Acknowledge', viewer));
    if (incident.status !== 'resolved') actions.push(actionForm(incident, 'resolve', 'Resolve', viewer));
    else actions.push(actionForm(incident, 'reopen', 'Reopen', viewer));
  }
  const timeline = incident.timeline
    .map((t) => `<tr><td>${escapeHtml(t.at)}</td><td>${escapeHtml(t.kind)}</td><td>${escapeHtml(t.actor)}</td><td>${escapeHtml(t.note ?? '')}</td></tr>`)
    .join('\n');
  const evidence = incident.evidence
    .map(
      (e) => `<tr><td>${escapeHtml(e.time)}</td><td>${escapeHtml(e.kind)}</td><td>${escapeHtml(e.user ?? '')}</td><td>${escapeHtml(e.command ?? '')}</td>
<td>${escapeHtml(e.object_name ?? '')}</td><td>${e.normalized === null ? '' : `<code>${escapeHtml(e.normalized)}</code>`}</td><td>${escapeHtml(e.rows ?? '')}</td></tr>`,
    )
    .join('\n');
  return `<h1>#${incident.id} ${escapeHtml(incident.title)}</h1>
${message === null ? '' : `<p class="notice">${escapeHtml(message)}</p>`}
<p>${severityBadge(incident.severity)} <span class="status" id="status">${escapeHtml(incident.status)}</span> · version ${incident.version} · ${escapeHtml(incident.detector)} on ${escapeHtml(incident.server)}</p>
<p>${escapeHtml(incident.summary)}</p>
<table><tbody><tr><th>Entity</th><td>${escapeHtml(entityText(incident))}</td></tr>
<tr><th>First seen</th><td>${escapeHtml(incident.first_seen)}</td></tr><tr><th>Last seen</th><td>${escapeHtml(incident.last_seen)}</td></tr>
<tr><th>Count</th><td>${incident.count}</td></tr><tr><th>Tags</th><td>${escapeHtml(incident.tags.join(', '))}</td></tr>
<tr><th>Data classes</th><td>${escapeHtml(incident.data_classes.join(', ') || '-')}</td></tr>
<tr><th>Regulatory time left</th><td>${deadlinesHtml(incident, now)}</td></tr></tbody></table>
${actions.join('\n')}
<h2>Timeline</h2><table id="timeline"><thead><tr><th>At</th><th>What</th><th>Who</th><th>Note</th></tr></thead><tbody>${timeline}</tbody></table>
<h2>Evidence</h2><table><thead><tr><th>Time</th><th>Kind</th><th>User</th><th>Command</th><th>Object</th><th>Statement (normalised)</th><th>Rows</th></tr></thead>
<tbody>${evidence}</tbody></table>`;
}

/** Body of `/ui/silences`: the silences and (for responders) a form to add one. */
export function silencesBody(silences: readonly SilenceJson[], viewer: PageViewer, message: string | null): string {
  const rows = silences
    .map((s) => {
      const m = s.matchers;
      const what = [m.detector && `detector ${m.detector}`, m.severity && `severity ${m.severity}`, m.server && `server ${m.server}`, m.entity?.user && `user ${m.entity.user}`]
        .filter((p): p is string => typeof p === 'string')
        .join(', ');
      const expire = viewer.canAct && s.state !== 'expired'
        ? `<form method="post" action="/ui/silences/${s.id}/expire" class="inline"><input type="hidden" name="_csrf" value="${escapeHtml(viewer.csrfToken)}"><button type="submit">Expire</button></form>`
        : '';
      return `<tr><td>${s.id}</td><td>${escapeHtml(what)}</td><td>${escapeHtml(s.starts_at)}</td><td>${escapeHtml(s.ends_at)}</td><td>${escapeHtml(s.author)}</td><td>${escapeHtml(s.reason)}</td><td>${escapeHtml(s.state)}</td><td>${expire}</td></tr>`;
    })
    .join('\n');
  const form = viewer.canAct
    ? `<form method="post" action="/ui/silences"><fieldset><legend>New silence</legend><input type="hidden" name="_csrf" value="${escapeHtml(viewer.csrfToken)}">
<label>Detector (exact or prefix*) <input type="text" name="detector" maxlength="200"></label>
<label>Server <input type="text" name="server" maxlength="200"></label>
<label>User <input type="text" name="user" maxlength="200"></label>
<label>Duration <input type="text" name="duration" value="2h" maxlength="20" required></label>
<label>Reason <input type="text" name="reason" maxlength="500" required></label> <button type="submit">Silence</button></fieldset></form>`
    : '';
  return `<h1>Silences</h1>${message === null ? '' : `<p class="notice">${escapeHtml(message)}</p>`}
<table><thead><tr><th>Id</th><th>Matches</th><th>Starts</th><th>Ends</th><th>Author</th><th>Reason</th><th>State</th><th></th></tr></thead><tbody>${rows}</tbody></table>${form}`;
}

/** Body of `/ui/sign-in`. */
export function signInBody(csrfToken: string, error: string | null): string {
  return `<h1>Sign in</h1>${error === null ? '' : `<p class="error">${escapeHtml(error)}</p>`}
<form method="post" action="/ui/sign-in"><input type="hidden" name="_csrf" value="${escapeHtml(csrfToken)}">
<label>API token <input type="password" name="token" autocomplete="off" required></label> <button type="submit">Sign in</button></form>`;
}

/** Body of the one-click link confirm page (GET never acts: mail scanners open links). */
export function linkConfirmBody(token: string, incident: IncidentJson, action: 'ack' | 'resolve', csrfToken: string): string {
  const label = action === 'ack' ? 'Acknowledge' : 'Resolve';
  return `<h1>${label} incident #${incident.id}?</h1>
<p>${severityBadge(incident.severity)} ${escapeHtml(incident.title)} · <span class="status">${escapeHtml(incident.status)}</span></p>
<p>${escapeHtml(incident.summary)}</p>
<form method="post" action="/ui/links/${escapeHtml(token)}"><input type="hidden" name="_csrf" value="${escapeHtml(csrfToken)}">
<label>Note <input type="text" name="note" maxlength="2000"></label> <button type="submit">${label}</button></form>`;
}

/** Body of a short message page (errors, link results). */
export function messageBody(heading: string, text: string): string {
  return `<h1>${escapeHtml(heading)}</h1><p>${escapeHtml(text)}</p>`;
}
