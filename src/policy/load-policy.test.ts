import { describe, expect, it } from 'vitest';
import { ShiplogError } from '../errors.js';
import { loadPolicyFile, parsePolicy, validatePolicy } from './load-policy.js';
import { jsonPath } from './policy-problems.js';

/** The problems a file produces, one `<file>:<line>:<col> <path>: <message>` line each. */
function problemsOf(text: string): string[] {
  try {
    loadPolicyFile(text, 'shiplog.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ShiplogError);
    expect((error as ShiplogError).code).toBe('SHIPLOG_CONFIG');
    return (error as ShiplogError).message.split('\n').slice(1);
  }
  throw new Error('expected the policy to be rejected');
}

const yaml = (...lines: string[]) => lines.join('\n') + '\n';

const DESIGN_EXAMPLE = yaml(
  'environments:',
  '  production:',
  '    protected: true',
  '    approvals: 1',
  "    requireTicket: '^[A-Z]+-[0-9]+$'",
  '    windows:',
  '      - days: [mon, tue, wed, thu]',
  "        from: '09:00'",
  "        to: '16:00'",
  '        timezone: Europe/Berlin',
  '    freezes:',
  "      - from: '2026-12-20T00:00:00Z'",
  "        to: '2027-01-04T00:00:00Z'",
  '        reason: year-end',
);

describe('loadPolicyFile', () => {
  it('loads the DESIGN.md §8 example into a deeply frozen policy', () => {
    const policy = loadPolicyFile(DESIGN_EXAMPLE, 'shiplog.yaml');
    const production = policy.environments.production;
    expect(production).toEqual({
      protected: true,
      approvals: 1,
      requireTicket: '^[A-Z]+-[0-9]+$',
      windows: [
        { days: ['mon', 'tue', 'wed', 'thu'], from: '09:00', to: '16:00', timezone: 'Europe/Berlin' },
      ],
      freezes: [{ from: '2026-12-20T00:00:00Z', to: '2027-01-04T00:00:00Z', reason: 'year-end' }],
    });
    expect(Object.isFrozen(policy.environments)).toBe(true);
    expect(Object.isFrozen(production?.windows?.[0]?.days)).toBe(true);
  });

  it('loads every extension: approvers, approvalTtl, require, byKind, recurring freezes, incidents', () => {
    const policy = loadPolicyFile(
      yaml(
        'services: {checkout-api: {owner: payments}}   # other sections are not the policy’s business',
        'environments:',
        '  production:',
        '    protected: true',
        '    approvals: 2',
        '    approvers: {roles: [approver], names: [carol]}',
        '    approvalTtl: 1d12h',
        '    require:',
        '      fields: [ticket, labels.sprint]',
        '      byKind:',
        '        hotfix: {fields: [justification], approvals: 1, allowOutsideWindows: true, allowDuringIncident: true}',
        '    windows:',
        '      - {days: [fri], from: "22:00", to: "02:00", timezone: UTC}',
        '    freezes:',
        '      - {every: year, from: 12-20, to: 01-04, timezone: Europe/Berlin, reason: holidays}',
        '      - {every: week, from: fri 18:00, to: mon 06:00, timezone: Europe/Berlin, reason: weekend}',
        '    blockOnIncidentSeverity: high',
        '  staging:',
        '    protected: false',
      ),
      'shiplog.yaml',
    );
    expect(policy.environments.production?.require?.byKind?.hotfix?.fields).toEqual(['justification']);
    expect(policy.environments.staging).toEqual({ protected: false });
  });

  it('accepts an absent section and an empty file', () => {
    expect(loadPolicyFile('', 'shiplog.yaml').environments).toEqual({});
    expect(loadPolicyFile('services: {}\n', 'shiplog.yaml').environments).toEqual({});
  });

  it('names the file, line, column and path of an unknown time zone', () => {
    const text = DESIGN_EXAMPLE.replace('timezone: Europe/Berlin', 'timezone: Europe/Berln');
    expect(problemsOf(text)).toEqual([
      'shiplog.yaml:10:19 environments.production.windows[0].timezone: unknown time zone "Europe/Berln" (use an IANA name like Europe/Berlin)',
    ]);
  });

  it('reports every problem at once, in file order', () => {
    const problems = problemsOf(
      yaml(
        'environments:',
        '  production:',
        '    protected: yes-please',
        "    requireTicket: '^([A-Z]+-[0-9]+$'",
        '    aprovals: 2',
        '    windows:',
        '      - days: [mon, funday]',
        "        from: '9:00'",
        "        to: '16:00'",
        '        timezone: Mars/Olympus',
        "      - {days: [tue], from: '10:00', to: '10:00', timezone: UTC}",
      ),
    );
    expect(problems).toEqual([
      'shiplog.yaml:3:16 environments.production.protected: must be boolean',
      'shiplog.yaml:4:20 environments.production.requireTicket: is not a valid regular expression (missing closing ): `^([A-Z]+-[0-9]+$`)',
      'shiplog.yaml:5:5 environments.production.aprovals: is not a known key',
      'shiplog.yaml:7:21 environments.production.windows[0].days[1]: must be one of mon, tue, wed, thu, fri, sat, sun',
      'shiplog.yaml:8:15 environments.production.windows[0].from: must be HH:MM (00:00-23:59)',
      'shiplog.yaml:10:19 environments.production.windows[0].timezone: unknown time zone "Mars/Olympus" (use an IANA name like Europe/Berlin)',
      'shiplog.yaml:11:42 environments.production.windows[1].to: must differ from `from` (10:00); an earlier `to` means a window that runs overnight',
    ]);
  });

  it('rejects overlapping fixed freezes but accepts back-to-back ones', () => {
    const freezes = (...items: string[]) =>
      yaml('environments:', '  production:', '    protected: true', '    freezes:', ...items);
    expect(
      problemsOf(
        freezes(
          "      - {from: '2026-12-20T00:00:00Z', to: '2027-01-04T00:00:00Z', reason: year-end}",
          "      - {from: '2027-01-03T00:00:00+01:00', to: '2027-01-10T00:00:00Z', reason: inventory}",
        ),
      ),
    ).toEqual([
      'shiplog.yaml:6:9 environments.production.freezes[1]: overlaps freezes[0] ("year-end"): merge them into one freeze',
    ]);
    expect(() =>
      loadPolicyFile(
        freezes(
          "      - {from: '2026-12-20T00:00:00Z', to: '2027-01-04T00:00:00Z', reason: year-end}",
          "      - {from: '2027-01-04T00:00:00Z', to: '2027-01-10T00:00:00Z', reason: inventory}",
        ),
        'shiplog.yaml',
      ),
    ).not.toThrow();
  });

  it('rejects a fixed freeze that overlaps a yearly one, and two weekly ones in one zone', () => {
    const problems = problemsOf(
      yaml(
        'environments:',
        '  production:',
        '    protected: true',
        '    freezes:',
        '      - {every: year, from: 12-20, to: 01-04, timezone: Europe/Berlin, reason: holidays}',
        "      - {from: '2031-01-02T00:00:00Z', to: '2031-01-05T00:00:00Z', reason: audit}",
        '      - {every: week, from: fri 18:00, to: mon 06:00, timezone: UTC, reason: weekend}',
        '      - {every: week, from: sun 20:00, to: sun 22:00, timezone: UTC, reason: backups}',
        '      - {every: week, from: sun 20:00, to: sun 22:00, timezone: Asia/Tokyo, reason: other zone}',
      ),
    );
    expect(problems).toEqual([
      'shiplog.yaml:6:9 environments.production.freezes[1]: overlaps freezes[0] ("holidays"): merge them into one freeze',
      'shiplog.yaml:8:9 environments.production.freezes[3]: overlaps freezes[2] ("weekend"): merge them into one freeze',
    ]);
  });

  it('checks each freeze against its own shape', () => {
    const problems = problemsOf(
      yaml(
        'environments:',
        '  production:',
        '    protected: true',
        '    freezes:',
        "      - {from: '2026-12-20', to: '2027-01-04T00:00:00Z', reason: year-end}",
        "      - {from: '2027-02-01T00:00:00Z', to: '2027-01-04T00:00:00Z', reason: backwards}",
        '      - {every: year, from: 02-30, to: 13-01, timezone: UTC, reason: x}',
        '      - {every: month, from: 01, to: 02, reason: monthly}',
        '      - {every: year, from: 12-20, to: 12-20, timezone: UTC, reason: empty, color: blue}',
        '      - {every: week, from: friday 18:00, to: mon 06:00, timezone: UTC}',
      ),
    );
    expect(problems).toEqual([
      'shiplog.yaml:5:16 environments.production.freezes[0].from: must be an RFC 3339 instant with an offset, e.g. 2026-12-20T00:00:00Z',
      'shiplog.yaml:6:44 environments.production.freezes[1].to: must be later than `from` (2027-02-01T00:00:00Z)',
      'shiplog.yaml:7:40 environments.production.freezes[2].to: must be MM-DD for `every: year`, `<day> HH:MM` (e.g. fri 18:00) for `every: week`',
      'shiplog.yaml:8:17 environments.production.freezes[3].every: must be `year` or `week` (or absent for a fixed freeze)',
      'shiplog.yaml:9:40 environments.production.freezes[4].to: must differ from `from`',
      'shiplog.yaml:9:77 environments.production.freezes[4].color: is not a known key',
      'shiplog.yaml:10:9 environments.production.freezes[5].reason: is required',
      'shiplog.yaml:10:29 environments.production.freezes[5].from: must be MM-DD for `every: year`, `<day> HH:MM` (e.g. fri 18:00) for `every: week`',
    ]);
  });

  it('rejects a yearly freeze on a day that does not exist and one that is empty', () => {
    const problems = problemsOf(
      yaml(
        'environments:',
        '  production:',
        '    protected: true',
        '    freezes:',
        '      - {every: year, from: 02-30, to: 03-01, timezone: UTC, reason: x}',
        '      - {every: year, from: 12-20, to: 12-20, timezone: Nowhere/Land, reason: y}',
      ),
    );
    expect(problems).toEqual([
      'shiplog.yaml:5:29 environments.production.freezes[0].from: 02-30 is not a day of the year',
      'shiplog.yaml:6:40 environments.production.freezes[1].to: must differ from `from`',
      'shiplog.yaml:6:57 environments.production.freezes[1].timezone: unknown time zone "Nowhere/Land" (use an IANA name like Europe/Berlin)',
    ]);
  });

  it('requires `protected` to be stated when an environment has rules', () => {
    expect(problemsOf(yaml('environments:', '  production:', '    approvals: 1'))).toEqual([
      'shiplog.yaml:2:3 environments.production: has rules but no `protected`: set `protected: true` to enforce them or `false` for advice only',
    ]);
  });

  it('checks environment names, approvers, approvalTtl and required fields', () => {
    const problems = problemsOf(
      yaml(
        'environments:',
        '  Production:',
        '    protected: true',
        '    approvers: {}',
        '    approvalTtl: 1 day',
        '    require: {fields: [ticket, owner], byKind: {hotfx: {}}}',
        '    blockOnIncidentSeverity: sev1',
      ),
    );
    expect(problems).toEqual([
      'shiplog.yaml:2:3 environments.Production: environment names are 1-63 characters of a-z 0-9 . _ - (lower case)',
      'shiplog.yaml:4:16 environments.Production.approvers: must name `roles`, `names` or both',
      'shiplog.yaml:5:18 environments.Production.approvalTtl: must be a duration like 30m, 24h, 7d or 1d12h',
      'shiplog.yaml:6:32 environments.Production.require.fields[1]: must be ticket, justification, commit or labels.<key>',
      'shiplog.yaml:6:49 environments.Production.require.byKind.hotfx: is not a known key',
      'shiplog.yaml:7:30 environments.Production.blockOnIncidentSeverity: must be one of critical, high, medium, low, info',
    ]);
  });

  it('gives YAML syntax errors and duplicate keys a line number', () => {
    const [syntax] = problemsOf(
      yaml('environments:', '  production:', '    protected: true', '    windows: [', '  staging: {}'),
    );
    expect(syntax).toMatch(/^shiplog\.yaml:\d+:\d+ \(yaml\): /);
    expect(
      problemsOf(yaml('environments:', '  production:', '    protected: true', '    protected: false')),
    ).toEqual(['shiplog.yaml:4:5 (yaml): Map keys must be unique']);
  });

  it('rejects a section of the wrong type', () => {
    expect(problemsOf('environments: [production]\n')).toEqual([
      'shiplog.yaml:1:15 environments: must be a mapping of environment names to rules',
    ]);
    expect(problemsOf('- environments\n')).toEqual(['shiplog.yaml:1:1 $: must be a mapping of sections']);
  });

  it('carries JSON pointers in the error details', () => {
    try {
      loadPolicyFile(DESIGN_EXAMPLE.replace("to: '16:00'", "to: '09:00'"), 'shiplog.yaml');
      expect.unreachable();
    } catch (error) {
      expect((error as ShiplogError).details).toEqual([
        {
          path: '/environments/production/windows/0/to',
          message:
            'shiplog.yaml:9:13 environments.production.windows[0].to: must differ from `from` (09:00); an earlier `to` means a window that runs overnight',
        },
      ]);
    }
  });
});

describe('parsePolicy and validatePolicy', () => {
  it('validate already parsed values, without positions', () => {
    expect(parsePolicy({ qa: { protected: false } }).environments.qa).toEqual({ protected: false });
    expect(validatePolicy({ qa: { protected: true, approvals: -1 } })).toEqual([
      { path: ['environments', 'qa', 'approvals'], message: 'must be >= 0' },
    ]);
    expect(() => parsePolicy({ qa: { protected: true, windows: 'always' } })).toThrow(
      /environments\.qa\.windows: must be array/,
    );
  });

  it('does not share state with its input', () => {
    const input = { qa: { protected: true, approvals: 1 } };
    const policy = parsePolicy(input);
    input.qa.approvals = 5;
    expect(policy.environments.qa?.approvals).toBe(1);
  });

  it('writes readable JSON paths', () => {
    expect(jsonPath(['environments', 'eu.prod', 'windows', 0, 'to'])).toBe(
      'environments["eu.prod"].windows[0].to',
    );
    expect(jsonPath([])).toBe('$');
  });
});
