import { suggestionSuffix } from '../lib/did-you-mean.js';
import type { PathProblem } from '../lib/zod-problems.js';

/** Receiver types the notify stage ships (src/notify/receiver-registry.ts), in the order messages list them. */
export const RECEIVER_TYPES = ['slack', 'email', 'webhook', 'console', 'file'] as const;

/**
 * Checks the receiver NAMES a config refers to, on the raw YAML value (validated or not): every
 * `routes[i].receivers`, `escalation.steps[i].receivers` and `receivers.<name>.fallback` must name a
 * receiver under `receivers:` (absent `receivers:` means the one default `console` receiver). Works on
 * whatever structure is there, so `jaga config check` reports these together with schema problems:
 * parts that are not the expected shape (a `routes` that is not a list, a name that is not a string)
 * are skipped (the schema reports them), and a `receivers:` that is not a map skips every check.
 *
 * @param value the config file's parsed YAML (plain JS)
 * @returns in order: fallbacks, routes, escalation steps; e.g.
 *   `{ path: ['routes', 0, 'receivers'], message: 'unknown receiver "ghost" (receivers: pager, mail)' }`
 *   (with ` (did you mean "x"?)` before the list when one name is close)
 */
export function receiverReferenceProblems(value: unknown): PathProblem[] {
  if (!isMap(value)) return [];
  const declared = value.receivers === undefined ? { console: { type: 'console' } } : value.receivers;
  if (!isMap(declared)) return [];
  const names = Object.keys(declared);
  const problems: PathProblem[] = [];
  const check = (path: (string | number)[], refs: readonly unknown[]): void => {
    for (const ref of refs) {
      if (typeof ref !== 'string' || names.includes(ref)) continue;
      problems.push({ path, message: `unknown receiver "${ref}"${suggestionSuffix(ref, names)} (receivers: ${names.join(', ')})` });
    }
  };
  for (const [name, receiver] of Object.entries(declared)) {
    if (isMap(receiver) && typeof receiver.fallback === 'string' && receiver.fallback !== name) check(['receivers', name, 'fallback'], [receiver.fallback]);
  }
  if (Array.isArray(value.routes)) {
    value.routes.forEach((route: unknown, index) => {
      if (isMap(route) && Array.isArray(route.receivers)) check(['routes', index, 'receivers'], route.receivers);
    });
  }
  const escalation = value.escalation;
  if (isMap(escalation) && Array.isArray(escalation.steps)) {
    escalation.steps.forEach((step: unknown, index) => {
      if (isMap(step) && Array.isArray(step.receivers)) check(['escalation', 'steps', index, 'receivers'], step.receivers);
    });
  }
  return problems;
}

/**
 * The receivers whose `type` is missing or not one of RECEIVER_TYPES, from the raw YAML value: the
 * schema's own message for a bad discriminator says neither which receiver nor what was close.
 * @returns e.g. `{ path: ['receivers', 'pager', 'type'], message: 'receiver "pager" has unknown type "slak" (did you mean "slack"?); types: slack, email, webhook, console, file' }`
 */
export function receiverTypeProblems(value: unknown): PathProblem[] {
  if (!isMap(value) || !isMap(value.receivers)) return [];
  const problems: PathProblem[] = [];
  const types = RECEIVER_TYPES.join(', ');
  for (const [name, receiver] of Object.entries(value.receivers)) {
    if (!isMap(receiver)) continue;
    const type = receiver.type;
    if (typeof type === 'string' && (RECEIVER_TYPES as readonly string[]).includes(type)) continue;
    const message =
      type === undefined
        ? `receiver "${name}" has no type; give one of: ${types}`
        : typeof type === 'string'
          ? `receiver "${name}" has unknown type "${type}"${suggestionSuffix(type, RECEIVER_TYPES)}; types: ${types}`
          : `receiver "${name}" has a type that is not a string; give one of: ${types}`;
    problems.push({ path: ['receivers', name, 'type'], message });
  }
  return problems;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
