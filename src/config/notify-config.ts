import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../domain/detection.js';
import { ConfigError } from '../domain/errors.js';
import { INCIDENT_CHANGE_KINDS, type IncidentChangeKind } from '../domain/incident-change.js';
import { INCIDENT_STATUSES, type IncidentStatus } from '../domain/incident.js';
import { durationSchema } from '../lib/duration.js';
import { formatPath } from '../lib/zod-problems.js';
import { emailAddressSchema } from './email-address.js';
import { RECEIVER_TYPES, receiverReferenceProblems } from './receiver-references.js';

const name = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a receiver name is letters, digits, _ . -');
const severity = z.enum(SEVERITIES);
/** Secret sources: the value itself, a file holding it (trimmed), or an environment variable. Never echoed. */
const secretKeys = (key: string) => ({
  [key]: z.string().min(1).optional(),
  [`${key}_file`]: z.string().min(1).optional(),
  [`${key}_env`]: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
});
const common = {
  group_window: durationSchema.optional(),
  rate_limit: z.strictObject({ per_second: z.number().positive(), burst: z.number().int().min(1).optional() }).optional(),
  max_attempts: z.number().int().min(1).max(1000).optional(),
  max_age: durationSchema.optional(),
  backoff: z.strictObject({ base: durationSchema.optional(), cap: durationSchema.optional() }).optional(),
  fallback: name.optional(),
  timeout: durationSchema.optional(),
};
const receiverSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('slack'), ...secretKeys('url'), username: z.string().min(1).optional(), channel: z.string().min(1).optional(), ...common }),
  z.strictObject({
    type: z.literal('email'),
    ...secretKeys('smtp_url'),
    from: emailAddressSchema,
    to: z.array(emailAddressSchema).min(1),
    ...common,
  }),
  z.strictObject({ type: z.literal('webhook'), ...secretKeys('url'), ...secretKeys('secret'), ...common }),
  z.strictObject({ type: z.literal('console'), stream: z.enum(['stdout', 'stderr']).optional(), ...common }),
  z.strictObject({ type: z.literal('file'), path: z.string().min(1), ...common }),
]);

/**
 * The notification sections of jaga.yaml (issue 6), as zod shape entries spread into the top-level
 * strict schema (`configFileSchema`):
 * ```yaml
 * receivers:                       # name -> receiver; none at all = one `console` receiver (stdout)
 *   oncall_slack:
 *     type: slack                  # slack | email | webhook | console | file
 *     url_env: JAGA_SLACK_URL      # secret: url, url_file (trimmed) or url_env; never logged
 *     group_window: 30s            # changes within the window become one digest; default 0s (each alone)
 *     rate_limit: {per_second: 1, burst: 1}   # default slack 1/s, others 10/s
 *     max_attempts: 12             # then dead-lettered (default 12)
 *     max_age: 24h                 # or dead-lettered when older (default 24h)
 *     backoff: {base: 1s, cap: 5m} # exponential with full jitter (defaults)
 *     fallback: oncall_email       # gets a copy of dead-lettered messages
 *     timeout: 10s                 # per attempt (default 10s)
 *   oncall_email: {type: email, smtp_url_file: /run/secrets/smtp, from: jaga@example.com, to: [soc@example.com]}
 *   siem: {type: webhook, url: https://siem.example/hook, secret_env: JAGA_SIEM_KEY}
 * routes:                          # every matching route adds its receivers; none = one route to all receivers
 *   - match: {severity_at_least: high, tags_any: [pii], detectors: ['jaga.auth.*'], statuses: [open]}
 *     receivers: [oncall_slack]
 *     changes: [opened, severity_raised, deadline_reminder, resolved]   # the default list
 * escalation:                      # unacknowledged incidents: step N after its bound -> its receivers
 *   steps:
 *     - after: {critical: 15m, high: 1h}   # or one duration for every severity
 *       receivers: [oncall_email]
 * notify: {poll_interval: 5s, lease: 2m, claim_batch: 10}
 * ```
 * `escalated` changes go only to their step's receivers; experimental detectors never notify.
 * This section is the ONE place escalation is configured: timing (the incidents stage's per-severity
 * bounds are derived from it, `escalationBoundsMs`) and receivers. Without steps nothing escalates.
 * For each severity the steps that apply to it must be the first ones and their bounds must grow.
 */
export const notifyConfigShape = {
  receivers: z.record(name, receiverSchema).optional(),
  routes: z
    .array(
      z.strictObject({
        match: z
          .strictObject({
            severity_at_least: severity.optional(),
            tags_any: z.array(z.string().min(1)).min(1).optional(),
            detectors: z.array(z.string().min(1)).min(1).optional(),
            statuses: z.array(z.enum(INCIDENT_STATUSES)).min(1).optional(),
          })
          .optional(),
        receivers: z.array(name).min(1),
        changes: z.array(z.enum(INCIDENT_CHANGE_KINDS)).min(1).optional(),
      }),
    )
    .optional(),
  escalation: z
    .strictObject({
      steps: z.array(z.strictObject({ after: z.union([durationSchema, z.partialRecord(severity, durationSchema)]), receivers: z.array(name).min(1) })),
    })
    .optional(),
  notify: z
    .strictObject({ poll_interval: durationSchema.optional(), lease: durationSchema.optional(), claim_batch: z.number().int().min(1).max(1000).optional() })
    .optional(),
};

/** The notification keys as validated (zod output of `notifyConfigShape`). */
export type NotifyConfigInput = { [K in keyof typeof notifyConfigShape]?: z.output<(typeof notifyConfigShape)[K]> };

/** Receiver types the notify stage ships (src/notify/receiver-registry.ts): one of RECEIVER_TYPES. */
export type ReceiverType = (typeof RECEIVER_TYPES)[number];

/** One receiver, defaults applied, secrets read. */
export interface ReceiverConfig {
  name: string;
  type: ReceiverType;
  /**
   * Type-specific parameters, camelCase, secrets resolved (validated again by the plug-in's schema):
   * slack `{url, timeoutMs, username?, channel?}`, email `{smtpUrl, from, to, timeoutMs}`,
   * webhook `{url, secret, timeoutMs}`, console `{stream}`, file `{path}` (absolute).
   */
  params: Readonly<Record<string, unknown>>;
  /** 0 = every change is its own message */
  groupWindowMs: number;
  ratePerSecond: number;
  rateBurst: number;
  maxAttempts: number;
  maxAgeMs: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  fallback: string | null;
}

/** One route: which changes of which incidents go to which receivers. Null matchers match everything. */
export interface RouteConfig {
  severityAtLeast: Severity | null;
  tagsAny: readonly string[] | null;
  /** detector ids, or prefixes ending in `*` */
  detectors: readonly string[] | null;
  statuses: readonly IncidentStatus[] | null;
  changes: readonly IncidentChangeKind[];
  receivers: readonly string[];
}

/** One escalation step (1-based `step`): `afterMs[severity]` null = the step does not apply to that severity. */
export interface EscalationStepConfig {
  step: number;
  afterMs: Readonly<Record<Severity, number | null>>;
  receivers: readonly string[];
}

/** The notification slice of the config, frozen. */
export interface NotifyConfig {
  receivers: Readonly<Record<string, ReceiverConfig>>;
  routes: readonly RouteConfig[];
  escalation: { readonly steps: readonly EscalationStepConfig[] };
  /** dispatcher poll interval (the truth; in-process wake-ups only shorten it), default 5 s */
  pollIntervalMs: number;
  /** a claim older than this is considered abandoned (its process died) and claimable again; default 2 min */
  leaseMs: number;
  /** rows claimed at once per receiver; default 10 */
  claimBatch: number;
  /** every secret value read, so loggers can mask them (never print this) */
  secrets: readonly string[];
}

/** The change kinds a route notifies when it names none. */
export const DEFAULT_ROUTE_CHANGES: readonly IncidentChangeKind[] = Object.freeze(['opened', 'severity_raised', 'deadline_reminder', 'resolved']);

/** Options of `resolveNotifyConfig`. */
export interface NotifyResolveOptions {
  /** where `*_env` secrets are looked up */
  env: Readonly<Record<string, string | undefined>>;
  /** folder `*_file` secrets and `file` receiver paths are relative to (the config file's) */
  baseDir: string;
  /**
   * check route, escalation and fallback receiver names (default true); `loadConfigFile` passes false
   * when it checked them on the raw file already (a file breaking the schema, whose broken receivers
   * it leaves out of `parsed`)
   */
  checkReferences?: boolean;
}

/** The secret keys each receiver type reads (`key`, `key_file` or `key_env`), with the URL schemes allowed when the secret is a URL. */
const SECRET_KEYS: Readonly<Partial<Record<ReceiverType, readonly { key: string; protocols: readonly string[] | null }[]>>> = Object.freeze({
  slack: [{ key: 'url', protocols: ['https:', 'http:'] }],
  email: [{ key: 'smtp_url', protocols: ['smtp:', 'smtps:'] }],
  webhook: [
    { key: 'url', protocols: ['https:', 'http:'] },
    { key: 'secret', protocols: null },
  ],
});

/** Where secret checks put what they find. */
interface SecretContext extends NotifyResolveOptions {
  problems: string[];
  secrets: string[];
}

/**
 * Reads one receiver secret given as exactly one of `key`, `key_file` (relative to `baseDir`,
 * trimmed) or `key_env`. Problems name the key, never the value.
 * @returns the value, or '' after adding a problem
 */
function readReceiverSecret(context: SecretContext, receiver: string, raw: Readonly<Record<string, unknown>>, key: string): string {
  const { problems } = context;
  const given = [key, `${key}_file`, `${key}_env`].filter((k) => raw[k] !== undefined);
  if (given.length === 0) {
    problems.push(`receivers.${receiver}.${key}: missing required key (give one of ${key}, ${key}_file, ${key}_env)`);
    return '';
  }
  if (given.length > 1) {
    problems.push(`receivers.${receiver}: give exactly one of ${key}, ${key}_file, ${key}_env (found ${given.join(', ')})`);
    return '';
  }
  let value: string | undefined;
  if (raw[key] !== undefined) value = raw[key] as string;
  else if (raw[`${key}_file`] !== undefined) {
    const path = resolve(context.baseDir, raw[`${key}_file`] as string);
    try {
      value = readFileSync(path, 'utf8').trim();
    } catch (error) {
      problems.push(`receivers.${receiver}.${key}_file: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return '';
    }
  } else {
    const variable = raw[`${key}_env`] as string;
    value = context.env[variable];
    if (value === undefined || value === '') {
      problems.push(`receivers.${receiver}.${key}_env: environment variable ${variable} is not set`);
      return '';
    }
  }
  if (value === '') problems.push(`receivers.${receiver}.${key}: is empty`);
  else context.secrets.push(value);
  return value;
}

/** Adds a problem when `value` (a secret: never shown) is not a URL with one of `protocols`; '' is skipped (already a problem). */
function checkReceiverUrl(context: SecretContext, receiver: string, key: string, value: string, protocols: readonly string[]): void {
  if (value === '') return;
  let protocol = '';
  try {
    protocol = new URL(value).protocol;
  } catch {
    context.problems.push(`receivers.${receiver}.${key}: not a valid URL (value not shown)`);
    return;
  }
  if (!protocols.includes(protocol)) context.problems.push(`receivers.${receiver}.${key}: expected a ${protocols.join(' or ')} URL (value not shown)`);
}

/**
 * The secret problems of a receiver whose entry breaks the schema (so `resolveNotifyConfig` cannot
 * take it), checked on the raw YAML map so that `jaga config check` lists them in the same pass:
 * for each secret of its type (slack `url`; email `smtp_url`; webhook `url`, `secret`) whose keys
 * have no schema problem, the same checks as `resolveNotifyConfig` (exactly one source, readable,
 * URL scheme). Nothing when the type is not a receiver type or a secret key holds a non-string.
 * @param brokenKeys the receiver's keys that have schema problems (their secrets are skipped)
 * @returns problems as `resolveNotifyConfig` words them, e.g. `receivers.pager.url_env: environment variable X is not set`
 */
export function brokenReceiverSecretProblems(name: string, raw: Readonly<Record<string, unknown>>, brokenKeys: ReadonlySet<string>, options: NotifyResolveOptions): string[] {
  const context: SecretContext = { ...options, problems: [], secrets: [] };
  readTypeSecrets(context, name, raw, (keys) => keys.some((k) => brokenKeys.has(k) || (raw[k] !== undefined && typeof raw[k] !== 'string')));
  return context.problems;
}

/**
 * Reads and checks every secret of the receiver's type (`SECRET_KEYS`): exactly one source, readable,
 * URL scheme when it is a URL.
 * @param skip secrets whose keys (`key`, `key_file`, `key_env`) it returns true for are not read
 * @returns key → value ('' when it has a problem); secrets of other types absent
 */
function readTypeSecrets(context: SecretContext, name: string, raw: Readonly<Record<string, unknown>>, skip: (keys: string[]) => boolean = () => false): Record<string, string> {
  const values: Record<string, string> = {};
  for (const { key, protocols } of SECRET_KEYS[raw.type as ReceiverType] ?? []) {
    if (skip([key, `${key}_file`, `${key}_env`])) continue;
    const value = readReceiverSecret(context, name, raw, key);
    if (protocols !== null) checkReceiverUrl(context, name, key, value, protocols);
    values[key] = value;
  }
  return values;
}

/**
 * Applies defaults, reads secrets (from the value, a `*_file` relative to `baseDir`, or `*_env` in
 * `env`) and checks references (route, escalation and fallback receiver names).
 * @throws ConfigError listing every problem; messages name the key and never show a secret's value.
 */
export function resolveNotifyConfig(parsed: NotifyConfigInput, options: NotifyResolveOptions): NotifyConfig {
  const problems: string[] = [];
  const secrets: string[] = [];
  const context: SecretContext = { ...options, problems, secrets };

  const inputReceivers = parsed.receivers ?? { console: { type: 'console' as const } };
  const receivers: Record<string, ReceiverConfig> = {};
  for (const [receiverName, raw] of Object.entries(inputReceivers)) {
    const secret = readTypeSecrets(context, receiverName, raw);
    const timeoutMs = raw.timeout ?? 10_000;
    let params: Record<string, unknown>;
    switch (raw.type) {
      case 'slack':
        params = { url: secret.url, timeoutMs, ...(raw.username ? { username: raw.username } : {}), ...(raw.channel ? { channel: raw.channel } : {}) };
        break;
      case 'email':
        params = { smtpUrl: secret.smtp_url, from: raw.from, to: [...raw.to], timeoutMs };
        break;
      case 'webhook':
        params = { url: secret.url, secret: secret.secret, timeoutMs };
        break;
      case 'console':
        params = { stream: raw.stream ?? 'stdout' };
        break;
      case 'file':
        params = { path: resolve(options.baseDir, raw.path) };
        break;
    }
    if (raw.fallback !== undefined && raw.fallback === receiverName) problems.push(`receivers.${receiverName}.fallback: a receiver cannot be its own fallback`);
    receivers[receiverName] = Object.freeze({
      name: receiverName,
      type: raw.type,
      params: Object.freeze(params),
      groupWindowMs: raw.group_window ?? 0,
      ratePerSecond: raw.rate_limit?.per_second ?? (raw.type === 'slack' ? 1 : 10),
      rateBurst: raw.rate_limit?.burst ?? 1,
      maxAttempts: raw.max_attempts ?? 12,
      maxAgeMs: raw.max_age ?? 86_400_000,
      backoffBaseMs: raw.backoff?.base ?? 1_000,
      backoffCapMs: raw.backoff?.cap ?? 300_000,
      fallback: raw.fallback ?? null,
    });
  }
  if (options.checkReferences !== false) for (const p of receiverReferenceProblems(parsed)) problems.push(`${formatPath(p.path)}: ${p.message}`);

  const routes: RouteConfig[] = (parsed.routes ?? [{ receivers: Object.keys(receivers) }]).map((route) =>
    Object.freeze({
      severityAtLeast: route.match?.severity_at_least ?? null,
      tagsAny: route.match?.tags_any ? Object.freeze([...route.match.tags_any]) : null,
      detectors: route.match?.detectors ? Object.freeze([...route.match.detectors]) : null,
      statuses: route.match?.statuses ? Object.freeze([...route.match.statuses]) : null,
      changes: Object.freeze([...(route.changes ?? DEFAULT_ROUTE_CHANGES)]),
      receivers: Object.freeze([...route.receivers]),
    }),
  );
  const steps: EscalationStepConfig[] = (parsed.escalation?.steps ?? []).map((step, index) => {
    const afterMs = {} as Record<Severity, number | null>;
    for (const s of SEVERITIES) afterMs[s] = typeof step.after === 'number' ? step.after : (step.after[s] ?? null);
    return Object.freeze({ step: index + 1, afterMs: Object.freeze(afterMs), receivers: Object.freeze([...step.receivers]) });
  });
  // the severities whose bound does not grow at a step, by step number: one problem per step
  const notGrowing = new Map<number, Severity[]>();
  for (const s of SEVERITIES) {
    // step k of a severity is the k-th bound of IncidentService: the steps that apply must come first and grow
    let gapAt: number | null = null;
    let previousMs = 0;
    for (const step of steps) {
      const afterMs = step.afterMs[s];
      if (afterMs === null) {
        gapAt ??= step.step;
        continue;
      }
      if (gapAt !== null) problems.push(`escalation.steps[${step.step - 1}].after: step ${step.step} applies to ${s} but step ${gapAt} does not: a severity's steps must be the first ones, without gaps`);
      else if (afterMs <= previousMs) notGrowing.set(step.step, [...(notGrowing.get(step.step) ?? []), s]);
      previousMs = afterMs;
    }
  }
  for (const [stepNumber, severities] of notGrowing) {
    const which = severities.length === SEVERITIES.length ? 'it' : `the ${severities.join(', ')} bound${severities.length === 1 ? '' : 's'}`;
    problems.push(`escalation.steps[${stepNumber - 1}].after: ${which} must be longer than the step before's (steps must grow)`);
  }
  if (problems.length > 0) {
    throw new ConfigError(`${problems.length} problem${problems.length === 1 ? '' : 's'} in the notification config:\n${problems.join('\n')}`, problems);
  }
  return Object.freeze({
    receivers: Object.freeze(receivers),
    routes: Object.freeze(routes),
    escalation: Object.freeze({ steps: Object.freeze(steps) }),
    pollIntervalMs: parsed.notify?.poll_interval ?? 5_000,
    leaseMs: parsed.notify?.lease ?? 120_000,
    claimBatch: parsed.notify?.claim_batch ?? 10,
    secrets: Object.freeze(secrets),
  });
}

/**
 * The incidents stage's escalation bounds (`IncidentsConfig.escalationMs`) from the escalation steps:
 * per severity, the `afterMs` of every step that applies to it, in step order, so bound k is step k
 * (the number `escalated` changes carry and the planner routes by). `resolveNotifyConfig` guarantees
 * the applying steps come first and grow.
 * @returns e.g. `{ critical: [900000, 3600000], high: [3600000] }`; severities without steps are absent
 */
export function escalationBoundsMs(escalation: NotifyConfig['escalation']): Partial<Record<Severity, readonly number[]>> {
  const bounds: Partial<Record<Severity, number[]>> = {};
  for (const step of escalation.steps) {
    for (const s of SEVERITIES) {
      const afterMs = step.afterMs[s];
      if (afterMs !== null) (bounds[s] ??= []).push(afterMs);
    }
  }
  return bounds;
}
