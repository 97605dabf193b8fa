import { describe, expect, it } from 'vitest';
import { ChangeTable } from '../domain/dora-changes.js';
import type { DoraIncident, DoraRemediation } from '../domain/dora.js';
import { readChanges, readIncidents, readRemediations } from './dora-lines.js';

/** An absent text, as the database writes it (an empty field is the empty text). */
const X = '\u001f';
const line = (...fields: (string | number)[]) => fields.join('\t');
const GROUP = { service: 0, environment: 0, region: -1, kind: 0, intent: -1 };

describe('readChanges', () => {
  it('reads each line of a group into a row: an absent text as null, an empty one as empty, times as numbers', () => {
    const table = new ChangeTable(1); // grows past its first capacity
    const group = {
      service: table.nameId('api'),
      environment: table.nameId('production'),
      region: table.nameId('eu-west-1'),
      kind: table.nameId('hotfix'),
      intent: table.nameId(null),
    };
    readChanges(
      [
        line('api-1', '1.2.0', 'OPS-1', 'api-0', 1000, 1100, 1700000000000, 1700000600000, 1699990000000),
        line('api-2', X, X, '', 2000, '', 1700000000001, '', ''),
        line('api-3', 'v3', X, X, -5, 7, 8, 9, 10),
      ].join('\n'),
      3,
      group,
      table,
    );
    expect(table.length).toBe(3);
    expect(table.change(0)).toEqual({
      deployment: 'api-1',
      service: 'api',
      environment: 'production',
      region: 'eu-west-1',
      version: '1.2.0',
      ticket: 'OPS-1',
      kind: 'hotfix',
      intent: null,
      remediates: 'api-0',
      firstMs: 1000,
      startedMs: 1100,
      finishedMs: 1700000000000,
      rolledBackMs: 1700000600000,
      firstCommitMs: 1699990000000,
    });
    expect(table.change(1)).toMatchObject({
      deployment: 'api-2',
      version: null,
      ticket: null,
      remediates: '',
      startedMs: null,
      rolledBackMs: null,
      firstCommitMs: null,
    });
    expect(table.change(2)).toMatchObject({ version: 'v3', remediates: null, firstMs: -5, finishedMs: 8 });
  });

  it('refuses a line with a column too few or too many, a time that is not a whole number, or none where one is required', () => {
    const read = (text: string) => () => readChanges(text, text.split('\n').length, GROUP, new ChangeTable());
    const good = line('a', 'v', X, X, 1, 2, 3, 4, 5);
    expect(read(`${good}\n${line('b', 'v', X, X, 1, 2, 3, 4)}`)).toThrow(
      /DORA changes read: line 2 has fewer columns than it should: "b\\tv/,
    );
    expect(read(`${good}\t6`)).toThrow(/line 1 has more columns than it should/);
    expect(read(line('a', 'v', X, X, 1, 2, '3.5', 4, 5))).toThrow(
      /line 1 has a field that is not a time in ms/,
    );
    expect(read(line('a', 'v', X, X, 1, 2, 3, '-', 5))).toThrow(/not a time in ms/);
    expect(read(line('a', 'v', X, X, 1, 2, '', 4, 5))).toThrow(/an empty time where one is required/);
  });

  it('refuses a group whose text holds more lines than it has rows (a value holding a tab and a line end)', () => {
    // One row whose ticket held "X\t\t1\t2\t3\t4\t5\nfake": each half reads as a whole line.
    const text =
      line('real', 'v', 'X', '', 1, 2, 3, 4, 5) + '\n' + line('fake', X, X, X, 100, '', 300, '', '');
    expect(() => readChanges(text, 1, GROUP, new ChangeTable())).toThrow(
      /DORA changes read: 2 lines for 1 rows \(a stored value holds a line end\)/,
    );
  });
});

describe('readIncidents and readRemediations', () => {
  it('read their lines into objects', () => {
    const incidents: DoraIncident[] = [];
    readIncidents(
      [
        line(
          'INC-1',
          'api errors',
          'api',
          'production',
          X,
          'sev1',
          'OPS-1',
          'api-1',
          '{"version":"1.2.0"}',
          10,
          20,
        ),
        line('INC-2', 'db slow', X, X, X, X, X, X, X, 30, ''),
      ].join('\n'),
      2,
      (i) => incidents.push(i),
    );
    expect(incidents).toEqual([
      {
        key: 'INC-1',
        title: 'api errors',
        service: 'api',
        environment: 'production',
        region: null,
        severity: 'sev1',
        startedMs: 10,
        resolvedMs: 20,
        ticket: 'OPS-1',
        causedBy: 'api-1',
        labels: { version: '1.2.0' },
      },
      {
        key: 'INC-2',
        title: 'db slow',
        service: null,
        environment: null,
        region: null,
        severity: null,
        startedMs: 30,
        resolvedMs: null,
        ticket: null,
        causedBy: null,
        labels: null,
      },
    ]);
    const remediations: DoraRemediation[] = [];
    readRemediations(line('api-9', 'api', 'production', 'eu', 'rollback', X, 40), 1, (r) =>
      remediations.push(r),
    );
    expect(remediations).toEqual([
      {
        deployment: 'api-9',
        service: 'api',
        environment: 'production',
        region: 'eu',
        kind: 'rollback',
        remediates: null,
        firstMs: 40,
      },
    ]);
    expect(() => readIncidents(line('INC-3', 'x'), 1, () => undefined)).toThrow(
      /DORA incidents read: line 1 has fewer columns than it should/,
    );
    expect(() => readRemediations(line('a', 's', 'e', X, 'release', X, ''), 1, () => undefined)).toThrow(
      /DORA remediations read: line 1 has an empty time where one is required/,
    );
  });
});
