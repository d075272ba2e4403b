import { describe, expect, it } from 'vitest';
import { DataCatalog } from '../../src/detect/data-catalog.js';
import { FieldAccessors } from '../../src/detect/field-accessors.js';
import { SelectionCompiler } from '../../src/detect/selection-compiler.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import type { MatchContext } from '../../src/detect/compiled-rule.js';
import { audit, makeEvent } from './rule-fixtures.js';

const catalog = new DataCatalog([
  { tables: { 'public.customers': { classes: ['pii'], columns: { card_last4: ['payment'] } }, 'billing.invoices': { classes: [], columns: { iban: ['payment'] } } } },
]);
const lists = new Map<string, string[]>([
  ['attack_tools', ['sqlmap', 'Havij']],
  ['office', ['10.1.0.0/16', '192.168.5.7']],
  ['prefixes', ['tmp_', 'scratch_']],
]);
const context: MatchContext = { lists: new Map(), classesOf: (r) => catalog.classesOf(r) };

function compiler(): SelectionCompiler {
  return new SelectionCompiler({ accessors: new FieldAccessors(catalog), catalog, lists });
}

/** Compiles a selection and returns a tester; fails the test on compile problems. */
function selection(definition: unknown): (event: AccessEvent) => boolean {
  const compiled = compiler().compile(definition);
  if ('problems' in compiled) throw new Error(JSON.stringify(compiled.problems));
  return (event) => compiled.predicate(event, context);
}

function problems(definition: unknown): { path: (string | number)[]; message: string }[] {
  const compiled = compiler().compile(definition);
  return 'problems' in compiled ? compiled.problems : [];
}

describe('equality', () => {
  it('matches strings case-insensitively unless |cased', () => {
    const plain = selection({ user: 'DBA_Admin' });
    expect(plain(makeEvent({ user: 'dba_admin' }))).toBe(true);
    expect(plain(makeEvent({ user: 'dba_admin2' }))).toBe(false);
    const cased = selection({ 'user|cased': 'DBA_Admin' });
    expect(cased(makeEvent({ user: 'dba_admin' }))).toBe(false);
    expect(cased(makeEvent({ user: 'DBA_Admin' }))).toBe(true);
  });

  it('treats a list of values as OR and null as null/absent', () => {
    const anyOf = selection({ kind: ['auth_failure', 'error'] });
    expect(anyOf(makeEvent({ kind: 'error' }))).toBe(true);
    expect(anyOf(makeEvent({ kind: 'audit' }))).toBe(false);
    const noApp = selection({ application_name: null });
    expect(noApp(makeEvent({ application_name: null }))).toBe(true);
    expect(noApp(makeEvent({ application_name: 'psql' }))).toBe(false);
    const nullOrPsql = selection({ application_name: [null, 'psql'] });
    expect(nullOrPsql(makeEvent({ application_name: 'PSQL' }))).toBe(true);
    expect(nullOrPsql(makeEvent({ application_name: null }))).toBe(true);
    expect(nullOrPsql(makeEvent({ application_name: 'crm-web' }))).toBe(false);
  });

  it('compares numbers with numbers and a numeric string field with a number value', () => {
    expect(selection({ 'audit.rows': 5000 })(makeEvent({ audit: audit({ rows: 5000 }) }))).toBe(true);
    expect(selection({ 'audit.rows': 5000 })(makeEvent({ audit: audit({ rows: 4999 }) }))).toBe(false);
    expect(selection({ sqlstate: 42501 })(makeEvent({ sqlstate: '42501' }))).toBe(true);
    expect(selection({ truncated: true })(makeEvent({ truncated: true }))).toBe(true);
    expect(selection({ truncated: true })(makeEvent({ truncated: false }))).toBe(false);
  });

  it('matches an array field when any element matches, and |all needs every value', () => {
    const flags = (f: string[]): AccessEvent => makeEvent({ query: { fingerprint: null, normalized: null, relations: [], flags: f } });
    expect(selection({ 'query.flags': 'copy_program' })(flags(['copy_to', 'copy_program']))).toBe(true);
    expect(selection({ 'query.flags': 'copy_program' })(flags(['copy_to']))).toBe(false);
    const both = selection({ 'query.flags|all': ['copy_to', 'copy_program'] });
    expect(both(flags(['copy_program', 'copy_to', 'has_where']))).toBe(true);
    expect(both(flags(['copy_to']))).toBe(false);
  });

  it('reads a missing nested object as null', () => {
    expect(selection({ 'audit.command': 'SELECT' })(makeEvent({ audit: null }))).toBe(false);
    expect(selection({ 'audit.command': null })(makeEvent({ audit: null }))).toBe(true);
  });
});

describe('string modifiers', () => {
  it('contains, startswith and endswith ignore case unless |cased', () => {
    const app = (name: string): AccessEvent => makeEvent({ application_name: name });
    expect(selection({ 'application_name|contains': 'SQLMAP' })(app('x-sqlmap/1.7'))).toBe(true);
    expect(selection({ 'application_name|contains|cased': 'SQLMAP' })(app('x-sqlmap/1.7'))).toBe(false);
    expect(selection({ 'application_name|startswith': 'Crm-' })(app('crm-web'))).toBe(true);
    expect(selection({ 'application_name|startswith': 'web' })(app('crm-web'))).toBe(false);
    expect(selection({ 'application_name|endswith': '-WEB' })(app('crm-web'))).toBe(true);
    expect(selection({ 'application_name|endswith|cased': '-WEB' })(app('crm-web'))).toBe(false);
  });

  it('contains with |all needs every substring', () => {
    const sel = selection({ 'statement|contains|all': ['union', 'select'] });
    expect(sel(makeEvent({ statement: "x' UNION SELECT 1--" }))).toBe(true);
    expect(sel(makeEvent({ statement: 'SELECT 1' }))).toBe(false);
  });

  it('re is a JavaScript RegExp, case-insensitive unless |cased', () => {
    expect(selection({ 'statement|re': '^select\\s+\\*' })(makeEvent({ statement: 'SELECT * FROM t' }))).toBe(true);
    expect(selection({ 'statement|re|cased': '^select' })(makeEvent({ statement: 'SELECT 1' }))).toBe(false);
    expect(selection({ 'query.relations|re': '^pg_' })(makeEvent({ query: { fingerprint: null, normalized: null, relations: ['t', 'pg_authid'], flags: [] } }))).toBe(true);
  });
});

describe('cidr', () => {
  it('matches IPv4 and IPv6 networks and IPv4-mapped IPv6 addresses', () => {
    const local = selection({ 'client_addr|cidr': ['127.0.0.0/8', '::1/128'] });
    expect(local(makeEvent({ client_addr: '127.0.0.2' }))).toBe(true);
    expect(local(makeEvent({ client_addr: '::1' }))).toBe(true);
    expect(local(makeEvent({ client_addr: '::ffff:127.0.0.9' }))).toBe(true);
    expect(local(makeEvent({ client_addr: '10.0.0.5' }))).toBe(false);
    expect(local(makeEvent({ client_addr: '[local]' }))).toBe(false);
    expect(local(makeEvent({ client_addr: null }))).toBe(false);
    const host = selection({ 'client_addr|cidr': '2001:db8::/32' });
    expect(host(makeEvent({ client_addr: '2001:db8::7' }))).toBe(true);
    expect(host(makeEvent({ client_addr: '2001:db9::7' }))).toBe(false);
  });

  it('takes networks from a list with |cidr|in_list', () => {
    const office = selection({ 'client_addr|cidr|in_list': 'office' });
    expect(office(makeEvent({ client_addr: '10.1.200.3' }))).toBe(true);
    expect(office(makeEvent({ client_addr: '192.168.5.7' }))).toBe(true);
    expect(office(makeEvent({ client_addr: '192.168.5.8' }))).toBe(false);
  });
});

describe('numeric and time comparisons', () => {
  it('gt, gte, lt, lte compare numbers', () => {
    const rows = (n: number | null): AccessEvent => makeEvent({ audit: audit({ rows: n }) });
    expect(selection({ 'audit.rows|gt': 1000 })(rows(1001))).toBe(true);
    expect(selection({ 'audit.rows|gt': 1000 })(rows(1000))).toBe(false);
    expect(selection({ 'audit.rows|gte': 1000 })(rows(1000))).toBe(true);
    expect(selection({ 'audit.rows|lt': 10 })(rows(9))).toBe(true);
    expect(selection({ 'audit.rows|lte': 10 })(rows(11))).toBe(false);
    expect(selection({ 'audit.rows|gt': 0 })(rows(null))).toBe(false);
  });

  it('compares time with ISO times', () => {
    const after = selection({ 'time|gte': '2026-01-01T12:00:00Z' });
    expect(after(makeEvent({ time: '2026-01-01T12:00:00.000Z' }))).toBe(true);
    expect(after(makeEvent({ time: '2026-01-01T11:59:59.999Z' }))).toBe(false);
  });

  it('reads hour_of_day and ISO day_of_week in UTC', () => {
    const night = selection({ 'hour_of_day|lt': 6 });
    expect(night(makeEvent({ time: '2026-01-01T05:59:00.000Z' }))).toBe(true);
    expect(night(makeEvent({ time: '2026-01-01T06:00:00.000Z' }))).toBe(false);
    const weekend = selection({ day_of_week: [6, 7] });
    expect(weekend(makeEvent({ time: '2026-01-03T10:00:00.000Z' }))).toBe(true); // Saturday
    expect(weekend(makeEvent({ time: '2026-01-04T10:00:00.000Z' }))).toBe(true); // Sunday
    expect(weekend(makeEvent({ time: '2026-01-05T10:00:00.000Z' }))).toBe(false); // Monday
  });
});

describe('in_list, exists, object_class', () => {
  it('in_list matches list values case-insensitively, and feeds contains/startswith', () => {
    expect(selection({ 'application_name|in_list': 'attack_tools' })(makeEvent({ application_name: 'havij' }))).toBe(true);
    expect(selection({ 'application_name|in_list': 'attack_tools' })(makeEvent({ application_name: 'sqlmap/1.7' }))).toBe(false);
    expect(selection({ 'application_name|in_list|cased': 'attack_tools' })(makeEvent({ application_name: 'havij' }))).toBe(false);
    expect(selection({ 'application_name|contains|in_list': 'attack_tools' })(makeEvent({ application_name: 'sqlmap/1.7' }))).toBe(true);
    expect(selection({ 'audit.object_name|startswith|in_list': 'prefixes' })(makeEvent({ audit: audit({ object_name: 'public.tmp_x' }) }))).toBe(false);
    expect(selection({ 'audit.object_name|startswith|in_list': 'prefixes' })(makeEvent({ audit: audit({ object_name: 'Scratch_2026' }) }))).toBe(true);
    expect(selection({ 'relations|endswith|in_list': ['attack_tools', 'prefixes'] })(makeEvent({ audit: audit({ object_name: 'public.t_sqlmap' }) }))).toBe(true);
  });

  it('exists is false for null, absent and empty lists', () => {
    const hasRows = selection({ 'audit.rows|exists': true });
    expect(hasRows(makeEvent({ audit: audit({ rows: 0 }) }))).toBe(true);
    expect(hasRows(makeEvent({ audit: audit({ rows: null }) }))).toBe(false);
    expect(hasRows(makeEvent({ audit: null }))).toBe(false);
    const noRelations = selection({ 'query.relations|exists': false });
    expect(noRelations(makeEvent({ query: { fingerprint: null, normalized: null, relations: [], flags: [] } }))).toBe(true);
    expect(noRelations(makeEvent({ query: { fingerprint: null, normalized: null, relations: ['t'], flags: [] } }))).toBe(false);
  });

  it('object_class matches relations classed so by table or column, unqualified names read as public.', () => {
    const pii = selection({ 'relations|object_class': 'pii' });
    expect(pii(makeEvent({ query: { fingerprint: null, normalized: null, relations: ['orders', 'Customers'], flags: [] } }))).toBe(true);
    expect(pii(makeEvent({ audit: audit({ object_name: 'public.orders' }) }))).toBe(false);
    const payment = selection({ 'audit.object_name|object_class': 'payment' });
    expect(payment(makeEvent({ audit: audit({ object_name: 'billing.invoices' }) }))).toBe(true);
    expect(payment(makeEvent({ audit: audit({ object_name: 'invoices' }) }))).toBe(false);
    expect(selection({ data_classes: 'payment' })(makeEvent({ audit: audit({ object_name: 'customers' }) }))).toBe(true);
  });

  it('relations unions audit.object_name and query.relations, qualified and lower-cased', () => {
    const sel = selection({ 'relations|all': ['public.customers', 'crm.orders'] });
    expect(sel(makeEvent({ audit: audit({ object_name: 'public.customers' }), query: { fingerprint: null, normalized: null, relations: ['CRM.Orders'], flags: [] } }))).toBe(true);
    expect(sel(makeEvent({ query: { fingerprint: null, normalized: null, relations: ['customers'], flags: [] } }))).toBe(false);
  });
});

describe('selection shapes and sharing', () => {
  it('a map is AND, a list of maps is OR', () => {
    const and = selection({ kind: 'auth_failure', user: 'dba_admin' });
    expect(and(makeEvent({ kind: 'auth_failure', user: 'dba_admin' }))).toBe(true);
    expect(and(makeEvent({ kind: 'auth_failure', user: 'app_web' }))).toBe(false);
    const or = selection([{ user: 'dba_admin' }, { application_name: 'psql' }]);
    expect(or(makeEvent({ user: 'x', application_name: 'psql' }))).toBe(true);
    expect(or(makeEvent({ user: 'x', application_name: 'crm-web' }))).toBe(false);
  });

  it('identical selections (any key order) share one predicate and kinds come from a plain kind equality', () => {
    const shared = compiler();
    const a = shared.compile({ kind: 'audit', user: 'x' });
    const b = shared.compile({ user: 'x', kind: 'audit' });
    const c = shared.compile([{ kind: 'error' }, { kind: ['auth_failure', 'error'], user: 'y' }]);
    if ('problems' in a || 'problems' in b || 'problems' in c) throw new Error('compile failed');
    expect(a.predicate).toBe(b.predicate);
    expect(shared.size).toBe(2);
    expect([...(a.kinds ?? [])]).toEqual(['audit']);
    expect([...(c.kinds ?? [])].sort()).toEqual(['auth_failure', 'error']);
    const d = shared.compile({ 'kind|contains': 'a' });
    expect('problems' in d ? 'x' : d.kinds).toBeNull();
  });

  it('evaluates a shared selection once per event', () => {
    let reads = 0;
    const event = makeEvent({ user: 'a' });
    const counting = new Proxy(event, { get: (target, key) => (key === 'user' && reads++, Reflect.get(target, key)) });
    const compiled = compiler().compile({ user: 'a' });
    if ('problems' in compiled) throw new Error('compile failed');
    expect(compiled.predicate(counting, context)).toBe(true);
    expect(compiled.predicate(counting, context)).toBe(true);
    expect(reads).toBe(1);
  });
});

describe('compile problems', () => {
  it('names the key and value of each bad condition', () => {
    expect(problems({ 'user|contians': 'x' })).toEqual([{ path: ['user|contians'], message: 'unknown modifier "contians" (did you mean "contains"?)' }]);
    expect(problems({ usr: 'x' })).toEqual([{ path: ['usr'], message: 'unknown field "usr" (did you mean "user"?)' }]);
    expect(problems({ 'statement|re': ['ok', '(unclosed'] })).toEqual([{ path: ['statement|re', 1], message: 'invalid regular expression "(unclosed": Invalid regular expression: /(unclosed/i: Unterminated group' }]);
    expect(problems({ 'client_addr|cidr': '10.0.0/8' })).toEqual([{ path: ['client_addr|cidr'], message: 'invalid CIDR "10.0.0/8": expected an IPv4 or IPv6 address with an optional /prefix' }]);
    expect(problems({ 'user|in_list': 'atack_tools' })).toEqual([{ path: ['user|in_list'], message: 'unknown list "atack_tools" (did you mean "attack_tools"?)' }]);
    expect(problems({ kind: 'auth_failures' })).toEqual([{ path: ['kind'], message: 'unknown event kind "auth_failures" (did you mean "auth_failure"?); kinds: audit, connection, authentication, authorization, auth_failure, disconnection, error, app_access, other' }]);
    expect(problems({ 'user|gt': 5 })).toEqual([{ path: ['user|gt'], message: 'gt needs a numeric or time field; user is a string' }]);
    expect(problems({ 'audit.rows|gt': 'many' })).toEqual([{ path: ['audit.rows|gt'], message: 'gt needs a number, got "many"' }]);
    expect(problems({ 'user|contains|re': 'x' })).toEqual([{ path: ['user|contains|re'], message: 'modifiers "contains" and "re" cannot be combined (one comparison per field condition)' }]);
    expect(problems({ 'client_addr|cidr|cased': '10.0.0.0/8' })).toEqual([{ path: ['client_addr|cidr|cased'], message: 'cased applies to string matches only, not cidr' }]);
    expect(problems({ 'user|exists': 'yes' })).toEqual([{ path: ['user|exists'], message: 'exists takes true or false' }]);
    expect(problems({ user: { nested: 1 } })).toEqual([{ path: ['user'], message: 'expected a value or a list of values, got a map' }]);
    expect(problems({})).toEqual([{ path: [], message: 'a selection needs at least one field condition' }]);
    expect(problems('user')).toEqual([{ path: [], message: 'expected a map of field conditions or a list of maps, got "user"' }]);
  });
});
