import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config-file.js';
import { shippedRulesDir } from '../../src/config/detection-config.js';
import { ConfigError } from '../../src/domain/errors.js';
import { writeTree } from '../detect/rule-fixtures.js';

async function problemsOf(text: string): Promise<string[]> {
  const dir = await writeTree({ 'jaga.yaml': text });
  const error = await loadConfigFile(join(dir, 'jaga.yaml')).catch((e: unknown) => e);
  if (!(error instanceof ConfigError)) throw new Error('expected a ConfigError');
  expect(error.code).toBe('E_CONFIG');
  return error.problems.map((p) => p.replaceAll(dir, '<dir>'));
}

describe('loadConfigFile: detection section', () => {
  it('resolves paths against the config file and applies defaults', async () => {
    const dir = await writeTree({
      'jaga.yaml': [
        'rules: [rules, /opt/jaga/rules]',
        'overlays: [local]',
        'lists:',
        '  etl_roles: [app_batch, 42]',
        '  office_networks: lists/office.txt',
        'catalog: catalog.yaml',
        'timezone: Asia/Jakarta',
        '',
      ].join('\n'),
    });
    const config = await loadConfigFile(join(dir, 'jaga.yaml'));
    expect(config.file).toBe(join(dir, 'jaga.yaml'));
    expect(config.detection).toEqual({
      ruleDirs: [join(dir, 'rules'), '/opt/jaga/rules'],
      overlayDirs: [join(dir, 'local')],
      lists: { etl_roles: ['app_batch', '42'], office_networks: join(dir, 'lists/office.txt') },
      catalog: join(dir, 'catalog.yaml'),
      timezone: 'Asia/Jakarta',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.detection)).toBe(true);
  });

  it('gives the shipped rules folder, no overlays, no catalog and UTC for an empty file', async () => {
    const dir = await writeTree({ 'jaga.yaml': '# nothing yet\n' });
    const config = await loadConfigFile(join(dir, 'jaga.yaml'));
    expect(config.detection).toEqual({ ruleDirs: [resolve('rules')], overlayDirs: [], lists: {}, catalog: null, timezone: 'UTC' });
    expect(shippedRulesDir()).toBe(resolve('rules'));
  });

  it('keeps an inline catalog', async () => {
    const dir = await writeTree({ 'jaga.yaml': 'catalog:\n  tables:\n    public.customers: { classes: [pii], columns: { email: [contact] } }\n' });
    const config = await loadConfigFile(join(dir, 'jaga.yaml'));
    expect(config.detection.catalog).toEqual({ tables: { 'public.customers': { classes: ['pii'], columns: { email: ['contact'] } } } });
  });

  it('lists every problem with its line and path', async () => {
    const problems = await problemsOf(
      [
        'rules: rules',
        'overlay: [local]',
        'lists:',
        '  etl_roles: 5',
        '  bad name: [x]',
        'catalog:',
        '  tables:',
        '    public.customers: { classes: pii, colums: {} }',
        'timezone: Mars/Olympus',
        '',
      ].join('\n'),
    );
    expect(problems).toEqual([
      '<dir>/jaga.yaml:1: rules: expected a list, got "rules"',
      '<dir>/jaga.yaml:2: overlay: unknown key "overlay" (did you mean "overlays"?)',
      '<dir>/jaga.yaml:4: lists.etl_roles: expected a list of values or a file path, got 5',
      '<dir>/jaga.yaml:5: lists.bad name: invalid key "bad name": a list name is letters, digits, _ . -',
      '<dir>/jaga.yaml:8: catalog.tables.public.customers.classes: expected a list, got "pii"',
      '<dir>/jaga.yaml:8: catalog.tables.public.customers.colums: unknown key "colums" (did you mean "columns"?)',
      '<dir>/jaga.yaml:9: timezone: unknown IANA time zone (e.g. UTC, Europe/Berlin, Asia/Jakarta)',
    ]);
  });

  it('reports a YAML syntax error and an unreadable file', async () => {
    expect(await problemsOf('rules: [a\n')).toEqual(['<dir>/jaga.yaml:2: YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]']);
    const error = await loadConfigFile('/nonexistent/jaga.yaml').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual(['/nonexistent/jaga.yaml: cannot read config file (ENOENT)']);
  });
});
