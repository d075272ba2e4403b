import { ConfigError } from '../domain/errors.js';
import { CliError } from './cli-error.js';
import { packageVersion } from './package-version.js';

/** A CLI command: gets its own arguments, returns the exit code. */
type Command = (args: string[]) => Promise<number>;

/*
 * Each command's module is imported only when that command runs: `jaga parse` then never loads
 * fastify, pg, PGlite or the notifiers (about 1 CPU-second of start-up measured on this machine).
 */
const COMMANDS: Record<string, { run: Command; summary: string }> = {
  run: { run: async (args) => (await import('./run-command.js')).runCommand(args), summary: 'run the daemon: tail sources, detect, raise incidents (jaga run --config FILE)' },
  config: { run: async (args) => (await import('./config-command.js')).configCommand(args), summary: 'check a jaga.yaml without starting (jaga config check --config FILE)' },
  parse: { run: async (args) => (await import('./parse-command.js')).parseCommand(args), summary: 'parse log files into one JSON event per line' },
  tail: { run: async (args) => (await import('./tail-command.js')).tailCommand(args), summary: 'follow a PostgreSQL log folder through rotations, one JSON event per line' },
  rules: { run: async (args) => (await import('./rules-command.js')).rulesCommand(args), summary: 'validate, test or show rules' },
  replay: { run: async (args) => (await import('./replay-command.js')).replayCommand(args), summary: 'replay log files through the rules and print one incident per line' },
  report: { run: async (args) => (await import('./report-command.js')).reportCommand(args), summary: 'access review: who read and changed personal-data tables (jaga report access)' },
  incidents: { run: async (args) => (await import('./incidents-command.js')).incidentsCommand(args), summary: 'list, show, acknowledge, resolve or export (breach register) incidents' },
  token: { run: async (args) => (await import('./token-command.js')).tokenCommand(args), summary: 'create, list or revoke HTTP API tokens (jaga token create --name NAME --role ROLE)' },
  demo: { run: async (args) => (await import('./demo-command.js')).demoCommand(args), summary: 'try jaga on this machine: bundled logs with attacks, live incidents and web page (no setup)' },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return ['usage: jaga <command> [options]', '', 'commands:', ...lines, '', 'jaga <command> --help for its options; jaga --version for the version'].join('\n');
}

/**
 * Runs the jaga CLI with `argv` (without node and script path) and returns the exit code:
 * 0 success, 1 the command found problems (e.g. validation), 2 bad usage or unreadable input.
 */
export async function main(argv: string[]): Promise<number> {
  // `jaga parse ... | head`: a reader that goes away is a normal end of output, not a crash.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`jaga ${await packageVersion()}\n`);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`jaga: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    // bad usage, or a config / store setting found wrong before anything started (the problems are in the message)
    if (error instanceof CliError || error instanceof ConfigError) {
      process.stderr.write(`jaga ${name}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
