import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configCommand } from '../../src/cli/config-command.js';
import { SOURCE_TYPES, sourceTypeProblems } from '../../src/config/daemon-config.js';
import { loadConfigFile } from '../../src/config/load-config-file.js';
import { ConfigError } from '../../src/domain/errors.js';
import { writeTree } from '../detect/rule-fixtures.js';

async function problemsOf(text: string): Promise<string[]> {
  const dir = await writeTree({ 'jaga.yaml': text });
  const error = await loadConfigFile(join(dir, 'jaga.yaml'), {}, { requireSources: true }).catch((e: unknown) => e);
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  return error.problems.map((p) => p.replaceAll(dir, '<dir>'));
}

describe('jaga config check: a source of unknown type', () => {
  it('lists the types the source schemas accept', () => {
    expect(SOURCE_TYPES).toEqual(['log_folder', 'app_access']);
  });

  it('names the source, the bad type, a close type and every type instead of the schema\'s discriminator message, in line order with other problems', async () => {
    const problems = await problemsOf(
      [
        'sources:', // 1
        '  - { name: pg1, type: log_foldr, path: logs }',
        '  - { name: app, type: app-access, url_file: secret }',
        '  - name: pg2', // 4
        '    path: logs',
        '  - { name: pg3, type: kafka, path: logs }',
        '  - { name: pg4, type: log_folder, path: logs, start_at: middle }',
        '',
      ].join('\n'),
    );
    expect(problems).toEqual([
      '<dir>/jaga.yaml:2: sources[0].type: source "pg1" has unknown type "log_foldr" (did you mean "log_folder"?); types: log_folder, app_access',
      '<dir>/jaga.yaml:3: sources[1].type: source "app" has unknown type "app-access" (did you mean "app_access"?); types: log_folder, app_access',
      '<dir>/jaga.yaml:4: sources[2].type: source "pg2" has no type; give one of: log_folder, app_access',
      '<dir>/jaga.yaml:6: sources[3].type: source "pg3" has unknown type "kafka"; types: log_folder, app_access',
      '<dir>/jaga.yaml:7: sources[4].start_at: expected one of beginning, end, got "middle"',
    ]);
  });

  it('calls a source without a name by its position, says when the type is not a string, and skips entries that are not maps', () => {
    expect(sourceTypeProblems({ sources: [{ type: 'folder' }, 'plain', null, { name: 7, type: ['log_folder'] }, { name: 'ok', type: 'app_access' }] })).toEqual([
      { path: ['sources', 0, 'type'], message: 'source #1 has unknown type "folder"; types: log_folder, app_access' },
      { path: ['sources', 3, 'type'], message: 'source #4 has a type that is not a string; give one of: log_folder, app_access' },
    ]);
    expect(sourceTypeProblems({ sources: { name: 'x' } })).toEqual([]);
    expect(sourceTypeProblems(null)).toEqual([]);
  });

  it('jaga config check prints the problem and exits 1', async () => {
    const dir = await writeTree({ 'jaga.yaml': 'sources:\n  - { name: crm, type: LOG_FOLDER, path: logs }\n' });
    const err: string[] = [];
    const sink = (lines: string[]) => ({ write: (text: string) => lines.push(text) }) as unknown as NodeJS.WritableStream;
    expect(await configCommand(['check', '--config', join(dir, 'jaga.yaml')], { stdout: sink([]), stderr: sink(err), env: {} })).toBe(1);
    expect(err.join('').replaceAll(dir, '<dir>')).toBe(
      '<dir>/jaga.yaml:2: sources[0].type: source "crm" has unknown type "LOG_FOLDER" (did you mean "log_folder"?); types: log_folder, app_access\n1 problem\n',
    );
  });
});
