/**
 * HTML building blocks of the web page: escaping and the page frame. Every value that did not come
 * from this file's literals goes through `escapeHtml`. The page loads one stylesheet from
 * `/ui/jaga.css` and no script (the CSP forbids both inline styles and scripts).
 */

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes `& < > " '` so text is safe in element content and in double- or single-quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (ch) => ESCAPES[ch] as string);
}

/** Options of `htmlPage`. */
export interface HtmlPageOptions {
  /** page title (escaped) */
  title: string;
  /** body HTML, already escaped by the caller */
  body: string;
  /** signed-in token name (escaped) and CSRF token for the sign-out form; null on public pages */
  user: { name: string; role: string; csrfToken: string } | null;
}

/** A whole HTML document: header with navigation and sign-out when signed in, then `body`. */
export function htmlPage(options: HtmlPageOptions): string {
  const nav = options.user
    ? `<nav><a href="/ui/incidents">Incidents</a> <a href="/ui/silences">Silences</a>
<form method="post" action="/ui/sign-out" class="inline"><input type="hidden" name="_csrf" value="${escapeHtml(options.user.csrfToken)}">
<span class="who">${escapeHtml(options.user.name)} (${escapeHtml(options.user.role)})</span> <button type="submit">Sign out</button></form></nav>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)} · jaga</title><link rel="stylesheet" href="/ui/jaga.css"></head>
<body><header><strong>jaga</strong> ${nav}</header><main>
${options.body}
</main></body></html>
`;
}

/** A duration for people: `3d 4h`, `2h 5m`, `45m`, `30s` (two largest units, floor). */
export function humanDuration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const parts: [number, string][] = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor((s % 86400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first === -1) return '0s';
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n}${unit}`)
    .join(' ');
}

/** The stylesheet served at `/ui/jaga.css`. */
export const PAGE_CSS = `body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b}
header{background:#14213d;color:#fff;padding:.6em 1em;display:flex;gap:1em;align-items:center}
header a{color:#fff;margin-right:1em}nav{display:flex;gap:1em;align-items:center;flex:1}
main{padding:1em;max-width:70em}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
.sev-critical{color:#fff;background:#9b1c1c}.sev-high{color:#fff;background:#d9480f}
.sev-medium{background:#fcc419}.sev-low{background:#d0ebff}.sev-info{background:#eee}
.sev{padding:0 .4em;border-radius:3px}.status{font-weight:bold}.overdue{color:#9b1c1c;font-weight:bold}
form.inline{display:inline}.who{margin-left:auto}.error{color:#9b1c1c}.notice{color:#2b8a3e}
fieldset{margin:1em 0}code{background:#f3f3f3;padding:0 .2em;word-break:break-all}
`;
