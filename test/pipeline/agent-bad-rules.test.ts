/**
 * `Agent.start` with a rule set that does not load: it fails with every problem (RuleLoadError)
 * before the store is opened, so an embedded store folder is not created for a run that never starts.
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config-file.js';
import { RuleLoadError } from '../../src/domain/errors.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { Agent } from '../../src/pipeline/agent.js';
import { ruleHead } from '../detect/rule-fixtures.js';

const dirs: string[] = [];

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('agent start with a bad rule set', () => {
  it('throws RuleLoadError naming the file and line, and leaves no store folder behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jaga-agent-bad-rules-'));
    dirs.push(dir);
    await mkdir(join(dir, 'rules'));
    await mkdir(join(dir, 'logs'));
    await writeFile(join(dir, 'rules', 'bad.yaml'), `${ruleHead('t.bad', 'match')}match:\n  sel: { kind: nope }\n`);
    await writeFile(
      join(dir, 'jaga.yaml'),
      ['store: { data_dir: data }', 'sources:', '  - { name: crm, type: log_folder, path: logs, format: csvlog }', 'rules: [rules]', 'http: { listen: "127.0.0.1:0" }', ''].join('\n'),
    );
    const config = await loadConfigFile(join(dir, 'jaga.yaml'), {}, { requireSources: true });
    const agent = new Agent(config, { logger: createSilentLogger(), rulePollIntervalMs: 60_000 });
    const error = await agent.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuleLoadError);
    expect((error as RuleLoadError).problems).toEqual([
      `${join(dir, 'rules', 'bad.yaml')}:8: rule t.bad: match.sel.kind: unknown event kind "nope"; kinds: audit, connection, authentication, authorization, auth_failure, disconnection, error, app_access, other`,
    ]);
    await expect(stat(join(dir, 'data'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await agent.stop(5_000)).toBe('stopped');
  });
});
