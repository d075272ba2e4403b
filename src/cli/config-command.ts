import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { DaemonConfig } from '../config/daemon-config.js';
import { loadConfigFile } from '../config/load-config-file.js';
import { DETECTOR_REGISTRY } from '../detect/detector-registry.js';
import { loadRuleSet } from '../detect/rule-loader.js';
import { ConfigError, RuleLoadError } from '../domain/errors.js';
import { argumentsError, CliError } from './cli-error.js';
import { suggestionSuffix } from '../lib/did-you-mean.js';
import { writeProblems } from './write-problems.js';

const HELP = `usage: jaga config check --config FILE

Validates FILE exactly as \`jaga run\` does (schema, environment overrides, *_FILE secrets, at least
one source, then the rule set it points at: rules, overlays, lists, catalog) without starting anything. Prints one line per problem (file:line: path: message, or
VARIABLE (path): message for a value from the environment) and exits 1 when there is any; prints a
summary without secrets and exits 0 when the config is valid. A valid config whose log folder is
missing, not a folder or not readable by this user gets a warning line per folder (stderr; exit
still 0: the server may create it later, and \`jaga run\` waits for it). Exit 2 for bad usage.
`;

/** What the command writes to (tests inject them). */
export interface ConfigCommandDeps {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

/**
 * `jaga config check --config FILE` (see HELP).
 * @returns 0 valid, 1 problems found
 * @throws CliError for bad usage (exit 2)
 */
export async function configCommand(args: string[], deps: ConfigCommandDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h', default: false } } });
  } catch (error) {
    throw argumentsError(error);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    stdout.write(HELP);
    return 0;
  }
  const sub = positionals[0];
  if (sub !== undefined && sub !== 'check') throw new CliError(`unknown subcommand "${sub}"${suggestionSuffix(sub, ['check'])}\nusage: jaga config check --config FILE`);
  if (positionals.length !== 1) throw new CliError('usage: jaga config check --config FILE');
  if (values.config === undefined) throw new CliError('--config FILE is required (jaga config --help)');
  try {
    const config = await loadConfigFile(values.config, deps.env ?? process.env, { requireSources: true });
    const { daemon, detection } = config;
    // the rule set the config points at, loaded as jaga run loads it at start (rules, overlays, lists, catalog)
    await loadRuleSet({ ruleDirs: detection.ruleDirs, overlayDirs: detection.overlayDirs, lists: detection.lists, catalog: detection.catalog, registry: DETECTOR_REGISTRY });
    const store = daemon.store.kind === 'postgres' ? 'postgres (url given)' : `embedded in ${daemon.store.dataDir}`;
    stdout.write(`${values.config}: ok: agent ${daemon.agentName}, store ${store}, sources ${daemon.sources.map((s) => `${s.name} (${s.type})`).join(', ')}\n`);
    for (const warning of await logFolderWarnings(daemon.sources)) stderr.write(`${values.config}: warning: ${warning}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError || error instanceof RuleLoadError)) throw error;
    writeProblems(stderr, error.problems);
    return 1;
  }
}

/**
 * One line per log_folder source whose folder this process cannot list now: missing, not a folder,
 * or not readable and searchable by this user (e.g. `source "pg1": /var/log/postgresql: not readable
 * by this user (EACCES); see README, "Reading the server's logs without root"`). Never throws.
 */
async function logFolderWarnings(sources: DaemonConfig['sources']): Promise<string[]> {
  const warnings: string[] = [];
  for (const source of sources) {
    if (source.type !== 'log_folder') continue;
    const where = `source "${source.name}": ${source.path}`;
    try {
      if (!(await stat(source.path)).isDirectory()) {
        warnings.push(`${where}: not a folder`);
        continue;
      }
      await access(source.path, constants.R_OK | constants.X_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      warnings.push(
        code === 'ENOENT'
          ? `${where}: does not exist (yet); jaga run waits for it and reports log_source_error until it does`
          : `${where}: not readable by this user (${code}); see README, "Reading the server's logs without root"`,
      );
    }
  }
  return warnings;
}
