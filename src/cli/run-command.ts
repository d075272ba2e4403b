import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load-config-file.js';
import { ConfigError, RuleLoadError } from '../domain/errors.js';
import { createLogger } from '../observe/logger.js';
import { Agent } from '../pipeline/agent.js';
import { argumentsError, CliError } from './cli-error.js';
import { packageVersion } from './package-version.js';
import { writeProblems } from './write-problems.js';

const HELP = `usage: jaga run --config FILE [--log-level error|warn|info|debug] [--shutdown-deadline-ms N]

Runs the jaga daemon: tails the configured sources, detects, raises incidents in the store, until
SIGTERM or SIGINT. Logs are JSON lines on stderr (no customer data). The environment may override
the file (JAGA_STORE_URL, JAGA_STORE_DATA_DIR, JAGA_AGENT_NAME, JAGA_TIMEZONE, JAGA_COMMIT_INTERVAL,
JAGA_HTTP_LISTEN; each also as <NAME>_FILE holding the value), see \`jaga config check\`.

Shutdown: the first SIGTERM/SIGINT stops reading, drains what was read, commits it (incidents,
access ledger and checkpoints together), then stops the jobs, the notification dispatcher, the HTTP
server and the store, within the deadline (config \`shutdown_timeout\`, default 10s; the option
--shutdown-deadline-ms overrides it); a second signal exits at once. Nothing committed is lost
either way: a restart resumes from the last committed checkpoints.

Exit codes:
  0    stopped by a signal after a clean shutdown
  1    a fatal runtime error (store lost at start, permanent commit failure)
  2    bad usage, config or rule set (every problem listed on stderr)
  3    the shutdown deadline passed before everything closed
  130  a second SIGTERM/SIGINT forced the exit
`;

/**
 * `jaga run --config FILE` (issue 6 minimal daemon; see HELP for exit codes).
 * @throws CliError for bad options (main prints it, exit 2)
 */
export async function runCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        config: { type: 'string', short: 'c' },
        'log-level': { type: 'string', default: 'info' },
        'shutdown-deadline-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw argumentsError(error);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.config === undefined) throw new CliError('--config FILE is required (jaga run --help)');
  const level = values['log-level'];
  if (level !== 'error' && level !== 'warn' && level !== 'info' && level !== 'debug') throw new CliError('--log-level must be error, warn, info or debug');
  const deadlineOption = values['shutdown-deadline-ms'] === undefined ? null : Number(values['shutdown-deadline-ms']);
  if (deadlineOption !== null && (!Number.isInteger(deadlineOption) || deadlineOption < 1)) throw new CliError('--shutdown-deadline-ms must be a positive integer');

  let config;
  try {
    config = await loadConfigFile(values.config, process.env, { requireSources: true });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    writeProblems(process.stderr, error.problems);
    return 2;
  }
  const deadlineMs = deadlineOption ?? config.daemon.shutdownTimeoutMs;
  const logger = createLogger({ level });
  const agent = new Agent(config, { logger, version: await packageVersion() });

  let signals = 0;
  let outcome: Promise<'stopped' | 'deadline'> | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) {
      logger.info('shutdown_requested', { event: 'shutdown_requested', signal, deadline_ms: deadlineMs });
      outcome = agent.stop(deadlineMs);
      void outcome.then((result) => {
        if (result === 'deadline') {
          logger.error('shutdown_deadline_passed', { event: 'shutdown_deadline_passed', deadline_ms: deadlineMs });
          process.exit(3);
        }
      });
    } else {
      logger.warn('shutdown_forced', { event: 'shutdown_forced', signal });
      process.exit(130);
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await agent.start();
    return 0;
  } catch (error) {
    if (error instanceof RuleLoadError || error instanceof ConfigError) {
      writeProblems(process.stderr, error.problems);
      return 2;
    }
    logger.error('agent_failed', { event: 'agent_failed', error: error instanceof Error ? error.message : String(error), code: (error as { code?: unknown }).code ?? null });
    return 1;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
