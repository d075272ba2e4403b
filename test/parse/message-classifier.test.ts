import { describe, expect, it } from 'vitest';
import { emptyLogRecord, type LogRecord } from '../../src/parse/log-record.js';
import { classifyMessage, type MessageClassification } from '../../src/parse/message-classifier.js';

function record(severity: string, message: string, sqlstate: string | null = null): LogRecord {
  return { ...emptyLogRecord(0, 100), severity, message, sqlstate };
}

/** The classification with every fact null, for exact comparisons. */
function expected(kind: MessageClassification['kind'], facts: Partial<MessageClassification> = {}): MessageClassification {
  return {
    kind,
    sqlstate: null,
    sqlstateInferred: false,
    user: null,
    database: null,
    host: null,
    port: null,
    applicationName: null,
    sessionDurationMs: null,
    authIdentity: null,
    authMethod: null,
    replication: false,
    ssl: null,
    auditPayload: null,
    ...facts,
  };
}

describe('classifyMessage: connections', () => {
  it('reads host and port of connection received', () => {
    expect(classifyMessage(record('LOG', 'connection received: host=127.0.0.1 port=38369'))).toEqual(
      expected('connection', { host: '127.0.0.1', port: 38369 }),
    );
  });

  it('reads a Unix-socket client as [local] without port, and an IPv6 address', () => {
    expect(classifyMessage(record('LOG', 'connection received: host=[local]'))).toEqual(expected('connection', { host: '[local]' }));
    expect(classifyMessage(record('LOG', 'connection received: host=::1 port=51000'))).toEqual(
      expected('connection', { host: '::1', port: 51000 }),
    );
  });

  it('reads identity and method of connection authenticated', () => {
    const message = 'connection authenticated: identity="support_sari" method=scram-sha-256 (/var/lib/pgsql/15/pgdata/pg_hba.conf:3)';
    expect(classifyMessage(record('LOG', message))).toEqual(
      expected('authentication', { authIdentity: 'support_sari', authMethod: 'scram-sha-256' }),
    );
  });

  it('reads user, database and application_name of connection authorized without SSL', () => {
    expect(classifyMessage(record('LOG', 'connection authorized: user=app_web database=crm application_name=crm-web'))).toEqual(
      expected('authorization', { user: 'app_web', database: 'crm', applicationName: 'crm-web', ssl: false }),
    );
    expect(classifyMessage(record('LOG', 'connection authorized: user=postgres database=postgres'))).toEqual(
      expected('authorization', { user: 'postgres', database: 'postgres', ssl: false }),
    );
  });

  it('reads an application_name with spaces followed by the SSL clause', () => {
    const message =
      'connection authorized: user=analyst database=crm application_name=DBeaver 23.0 - Main SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)';
    expect(classifyMessage(record('LOG', message))).toEqual(
      expected('authorization', { user: 'analyst', database: 'crm', applicationName: 'DBeaver 23.0 - Main', ssl: true }),
    );
  });

  it('reads the GSS clause without taking it into the database name', () => {
    const message = 'connection authorized: user=alice database=crm GSS (authenticated=yes, encrypted=yes, principal=alice@EXAMPLE.COM)';
    expect(classifyMessage(record('LOG', message))).toEqual(expected('authorization', { user: 'alice', database: 'crm', ssl: false }));
  });

  it('marks replication connections (backup tools) and reads their user and application_name', () => {
    const message =
      'replication connection authorized: user=replicator application_name=pg_basebackup SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)';
    expect(classifyMessage(record('LOG', message))).toEqual(
      expected('authorization', { user: 'replicator', applicationName: 'pg_basebackup', replication: true, ssl: true }),
    );
    expect(classifyMessage(record('LOG', 'replication connection authorized: user=barman'))).toEqual(
      expected('authorization', { user: 'barman', replication: true, ssl: false }),
    );
  });

  it('reads session time (ms), user, database, host and port of a disconnection', () => {
    const message = 'disconnection: session time: 0:00:19.014 user=support_sari database=crm host=127.0.0.1 port=46515';
    expect(classifyMessage(record('LOG', message))).toEqual(
      expected('disconnection', { sessionDurationMs: 19_014, user: 'support_sari', database: 'crm', host: '127.0.0.1', port: 46515 }),
    );
  });

  it('reads a session longer than 24 hours and a [local] disconnection without port', () => {
    const message = 'disconnection: session time: 27:03:04.005 user=postgres database=postgres host=[local]';
    expect(classifyMessage(record('LOG', message))).toEqual(
      expected('disconnection', {
        sessionDurationMs: ((27 * 60 + 3) * 60 + 4) * 1000 + 5,
        user: 'postgres',
        database: 'postgres',
        host: '[local]',
      }),
    );
  });
});

describe('classifyMessage: authentication failures', () => {
  it('infers 28P01 for a password failure logged without SQLSTATE and takes the user from the message', () => {
    expect(classifyMessage(record('FATAL', 'password authentication failed for user "dba_admin"'))).toEqual(
      expected('auth_failure', { sqlstate: '28P01', sqlstateInferred: true, user: 'dba_admin', authMethod: 'password' }),
    );
  });

  it('keeps the SQLSTATE the record carries', () => {
    expect(classifyMessage(record('FATAL', 'password authentication failed for user "dba_admin"', '28P01'))).toEqual(
      expected('auth_failure', { sqlstate: '28P01', user: 'dba_admin', authMethod: 'password' }),
    );
  });

  it('infers 28000 for Ident, Peer and host-rejected failures', () => {
    expect(classifyMessage(record('FATAL', 'Peer authentication failed for user "postgres"'))).toEqual(
      expected('auth_failure', { sqlstate: '28000', sqlstateInferred: true, user: 'postgres', authMethod: 'Peer' }),
    );
    expect(classifyMessage(record('FATAL', 'Ident authentication failed for user "ops"'))).toMatchObject({
      kind: 'auth_failure',
      sqlstate: '28000',
      user: 'ops',
      authMethod: 'Ident',
    });
    expect(classifyMessage(record('FATAL', 'authentication failed for user "mallory": host rejected'))).toEqual(
      expected('auth_failure', { sqlstate: '28000', sqlstateInferred: true, user: 'mallory' }),
    );
  });

  it('reads host, user and database of a missing pg_hba.conf entry (PostgreSQL 15 and 12 wording)', () => {
    expect(
      classifyMessage(record('FATAL', 'no pg_hba.conf entry for host "10.1.2.3", user "analyst", database "crm", no encryption')),
    ).toEqual(expected('auth_failure', { sqlstate: '28000', sqlstateInferred: true, host: '10.1.2.3', user: 'analyst', database: 'crm' }));
    expect(classifyMessage(record('FATAL', 'no pg_hba.conf entry for host "10.1.2.3", user "analyst", database "crm", SSL off', '28000'))).toEqual(
      expected('auth_failure', { sqlstate: '28000', host: '10.1.2.3', user: 'analyst', database: 'crm' }),
    );
  });

  it('reads replication and explicit-reject pg_hba.conf failures', () => {
    expect(classifyMessage(record('FATAL', 'no pg_hba.conf entry for replication connection from host "10.0.0.9", user "backup", SSL encryption'))).toEqual(
      expected('auth_failure', { sqlstate: '28000', sqlstateInferred: true, host: '10.0.0.9', user: 'backup', replication: true }),
    );
    expect(classifyMessage(record('FATAL', 'pg_hba.conf rejects connection for host "10.0.0.7", user "bob", database "crm", no encryption'))).toEqual(
      expected('auth_failure', { sqlstate: '28000', sqlstateInferred: true, host: '10.0.0.7', user: 'bob', database: 'crm' }),
    );
  });

  it('treats FATAL role-does-not-exist and not-permitted-to-log-in as auth failures', () => {
    expect(classifyMessage(record('FATAL', 'role "ghost" does not exist'))).toEqual(
      expected('auth_failure', { sqlstate: '28000', sqlstateInferred: true, user: 'ghost' }),
    );
    expect(classifyMessage(record('FATAL', 'role "nologin_role" is not permitted to log in', '28000'))).toEqual(
      expected('auth_failure', { sqlstate: '28000', user: 'nologin_role' }),
    );
  });

  it('treats an ERROR role-does-not-exist (e.g. ALTER ROLE) as an error, not a login failure', () => {
    expect(classifyMessage(record('ERROR', 'role "ghost" does not exist', '42704'))).toEqual(expected('error', { sqlstate: '42704' }));
  });

  it('recognises a FATAL with SQLSTATE class 28 whatever its (translated) text', () => {
    expect(classifyMessage(record('FATAL', 'Passwort-Authentifizierung für Benutzer »x« fehlgeschlagen', '28P01'))).toEqual(
      expected('auth_failure', { sqlstate: '28P01' }),
    );
  });
});

describe('classifyMessage: errors, audit and other records', () => {
  it('infers 42501 for permission denied and must be owner/superuser messages without SQLSTATE', () => {
    expect(classifyMessage(record('ERROR', 'permission denied for table pg_authid'))).toEqual(
      expected('error', { sqlstate: '42501', sqlstateInferred: true }),
    );
    expect(classifyMessage(record('ERROR', 'must be owner of table customers'))).toEqual(expected('error', { sqlstate: '42501', sqlstateInferred: true }));
    expect(classifyMessage(record('ERROR', 'must be superuser to alter replication roles'))).toEqual(
      expected('error', { sqlstate: '42501', sqlstateInferred: true }),
    );
  });

  it('infers 42601 for syntax errors without SQLSTATE', () => {
    expect(classifyMessage(record('ERROR', 'syntax error at or near "SELEC"'))).toEqual(expected('error', { sqlstate: '42601', sqlstateInferred: true }));
    expect(classifyMessage(record('ERROR', 'syntax error at end of input'))).toEqual(expected('error', { sqlstate: '42601', sqlstateInferred: true }));
  });

  it('infers nothing for other errors and keeps a given SQLSTATE', () => {
    expect(classifyMessage(record('ERROR', 'column "totl_amount" does not exist'))).toEqual(expected('error'));
    expect(classifyMessage(record('ERROR', 'column "totl_amount" does not exist', '42703'))).toEqual(expected('error', { sqlstate: '42703' }));
    expect(classifyMessage(record('FATAL', 'database "nope" does not exist', '3D000'))).toEqual(expected('error', { sqlstate: '3D000' }));
    expect(classifyMessage(record('PANIC', 'could not write to file "pg_wal/xlogtemp.123": No space left on device'))).toEqual(expected('error'));
  });

  it('does not infer an SQLSTATE for a WARNING that mentions permission denied', () => {
    expect(classifyMessage(record('WARNING', 'permission denied to set parameter "x"'))).toEqual(expected('other'));
  });

  it('hands over the pgaudit payload of an AUDIT record at any severity', () => {
    expect(classifyMessage(record('LOG', 'AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.customers,SELECT * FROM customers;,<none>,5000', '00000'))).toEqual(
      expected('audit', { auditPayload: 'SESSION,1,1,READ,SELECT,TABLE,public.customers,SELECT * FROM customers;,<none>,5000' }),
    );
    expect(classifyMessage(record('NOTICE', 'AUDIT: SESSION,3,1,MISC,SET,,,SET x = 1;,<not logged>'))).toMatchObject({
      kind: 'audit',
      auditPayload: 'SESSION,3,1,MISC,SET,,,SET x = 1;,<not logged>',
    });
  });

  it('classifies checkpoints and parameter changes as other, reading SQLSTATE 00000 as null', () => {
    expect(classifyMessage(record('LOG', 'checkpoint starting: time', '00000'))).toEqual(expected('other'));
    expect(classifyMessage(record('LOG', 'parameter "pgaudit.log" changed to "none"'))).toEqual(expected('other'));
  });

  it('keeps the kind of a connection line whose details do not match the known shape', () => {
    expect(classifyMessage(record('LOG', 'connection received: somewhere odd'))).toEqual(expected('connection'));
    expect(classifyMessage(record('LOG', 'disconnection: session time: soon'))).toEqual(expected('disconnection'));
  });
});
