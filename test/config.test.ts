/**
 * The settings of `shiplog serve`: one table, flag before variable before file before default
 * (DESIGN.md §5), errors that name where a bad value came from, and the README's table written
 * from the same table. Regression: SHIPLOG_PORT, SHIPLOG_HOST and SHIPLOG_DATA were ignored
 * because commander's defaults always won.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigFile } from '../src/config-file.js';
import { SERVE_SETTINGS, loadRuntimeConfig, type RuntimeConfig, type ServeFlags } from '../src/config.js';
import { ShiplogError } from '../src/errors.js';
import { buildProgram } from '../src/cli/main.js';
import { ROOT } from './helpers/server-process.js';

/** Three distinct valid values per setting that has a file key: [flag/env text, file YAML, parsed]. */
const SAMPLES: Record<string, [string, string, unknown][]> = {
  dataDir: [
    ['/tmp/a', '/tmp/a', '/tmp/a'],
    ['/tmp/b', '/tmp/b', '/tmp/b'],
    ['/tmp/c', '/tmp/c', '/tmp/c'],
  ],
  databaseUrl: [
    ['postgres://a/db', 'postgres://a/db', 'postgres://a/db'],
    ['postgres://b/db', 'postgres://b/db', 'postgres://b/db'],
    ['postgresql://c/db', 'postgresql://c/db', 'postgresql://c/db'],
  ],
  port: [
    ['1001', '1001', 1001],
    ['1002', '1002', 1002],
    ['1003', '1003', 1003],
  ],
  host: [
    ['10.0.0.1', '10.0.0.1', '10.0.0.1'],
    ['10.0.0.2', '10.0.0.2', '10.0.0.2'],
    ['::1', "'::1'", '::1'],
  ],
  logLevel: [
    ['debug', 'debug', 'debug'],
    ['warn', 'warn', 'warn'],
    ['error', 'error', 'error'],
  ],
  rateLimit: [
    ['10/1s', '{requests: 10, per: 1s}', { requests: 10, perMs: 1000 }],
    ['20/2m', '{requests: 20, per: 2m}', { requests: 20, perMs: 120_000 }],
    ['off', 'off', null],
  ],
};

const fileSettings = (yaml: string) => parseConfigFile(yaml, 'shiplog.yaml').server;

describe('the settings of shiplog serve', () => {
  for (const [name, setting] of Object.entries(SERVE_SETTINGS)) {
    const key = name as keyof RuntimeConfig;
    const samples = SAMPLES[name];
    if (setting.fileKey === undefined || samples === undefined) continue;
    it(`takes ${name} from ${setting.flag}, else ${setting.env}, else server.${setting.fileKey}, else the default`, () => {
      const [[flagText, , flagValue], [envText, , envValue], [, fileYaml, fileValue]] = samples as [
        [string, string, unknown],
        [string, string, unknown],
        [string, string, unknown],
      ];
      const flags: ServeFlags = { [setting.flagKey as string]: flagText };
      const env = { [setting.env as string]: envText };
      const file = fileSettings(`server:\n  ${setting.fileKey}: ${fileYaml}\n`);
      const resolved = (value: unknown) => (name === 'dataDir' ? path.resolve(value as string) : value);
      expect(loadRuntimeConfig(flags, env, file)[key]).toEqual(resolved(flagValue));
      expect(loadRuntimeConfig({}, env, file)[key]).toEqual(resolved(envValue));
      expect(loadRuntimeConfig({}, {}, file)[key]).toEqual(resolved(fileValue));
      expect(loadRuntimeConfig({}, {}, {})[key]).toEqual(resolved(setting.default));
      // An empty variable is unset.
      expect(loadRuntimeConfig({}, { [setting.env as string]: '' }, file)[key]).toEqual(resolved(fileValue));
    });
  }

  it('takes the environment-only settings from the environment', () => {
    const config = loadRuntimeConfig(
      {},
      {
        SHIPLOG_BOOTSTRAP_TOKEN: 'boot',
        SHIPLOG_CONFIG: 'x.yaml',
        SHIPLOG_SIGNING_KEY: 'key',
        SHIPLOG_LEDGER_ORIGIN: 'o/l',
      },
    );
    expect(config).toMatchObject({
      bootstrapToken: 'boot',
      configFile: 'x.yaml',
      signingKey: 'key',
      ledgerOrigin: 'o/l',
    });
    expect(loadRuntimeConfig({ config: 'y.yaml' }, { SHIPLOG_CONFIG: 'x.yaml' }).configFile).toBe('y.yaml');
    expect(loadRuntimeConfig({}, {})).toMatchObject({
      port: 7350,
      host: '127.0.0.1',
      dataDir: path.resolve('.shiplog'),
      rateLimit: { requests: 600, perMs: 60_000 },
      logLevel: 'info',
    });
  });

  it('names the flag or variable a bad value came from', () => {
    const fails = (flags: ServeFlags, env: Record<string, string>) => {
      try {
        loadRuntimeConfig(flags, env);
      } catch (error) {
        expect(error).toBeInstanceOf(ShiplogError);
        return (error as ShiplogError).message;
      }
      throw new Error('expected the settings to be refused');
    };
    expect(fails({ port: 'http' }, {})).toBe(
      '--port must be a whole number from 0 to 65535 (got --port http)',
    );
    expect(fails({}, { SHIPLOG_PORT: '70000' })).toMatch(
      /^SHIPLOG_PORT must be a whole number.*SHIPLOG_PORT=70000/,
    );
    expect(fails({}, { SHIPLOG_DATABASE_URL: 'mysql://x' })).toMatch(
      /^SHIPLOG_DATABASE_URL must start with postgres/,
    );
    expect(fails({ rateLimit: '600' }, {})).toMatch(/^--rate-limit must be REQUESTS\/DURATION/);
    expect(fails({}, { SHIPLOG_RATE_LIMIT: '600/1fortnight' })).toMatch(
      /^SHIPLOG_RATE_LIMIT must be a duration/,
    );
    expect(fails({}, { SHIPLOG_LOG_LEVEL: 'loud' })).toMatch(/^SHIPLOG_LOG_LEVEL must be one of/);
    // A valid flag wins without the variable being read at all.
    expect(loadRuntimeConfig({ port: '1' }, { SHIPLOG_PORT: 'junk' }).port).toBe(1);
  });

  it('names file, line and key of a bad server: value, and refuses a password in the file', () => {
    const text = [
      'server:',
      '  port: http',
      '  rateLimit: {requests: 0, per: 1m}',
      '  database: postgres://u:secret@db/shiplog',
      '  colour: blue',
    ].join('\n');
    let message = '';
    try {
      parseConfigFile(text, 'shiplog.yaml');
    } catch (error) {
      message = (error as ShiplogError).message;
    }
    expect(message.split('\n').slice(1)).toEqual([
      'shiplog.yaml:2:9 server.port: must be a whole number from 0 to 65535',
      'shiplog.yaml:3:14 server.rateLimit: must be a whole number of requests, 1 or more',
      'shiplog.yaml:4:13 server.database: must not carry a password: give the URL in SHIPLOG_DATABASE_URL instead',
      expect.stringMatching(
        /^shiplog\.yaml:5:3 server\.colour: is not a known setting \(data, database, port/,
      ),
    ]);
    expect(message).not.toContain('secret@');
  });

  it('reads webhook secrets from the one variable each source is documented with', () => {
    const config = loadRuntimeConfig(
      {},
      {
        SHIPLOG_GITHUB_WEBHOOK_SECRET: 'gh',
        SHIPLOG_GITLAB_WEBHOOK_TOKEN: 'gl',
        SHIPLOG_JENKINS_WEBHOOK_TOKEN: 'jk',
        // Not the documented names: ignored, rather than one more way to configure a secret.
        SHIPLOG_GITHUB_WEBHOOK_TOKEN: 'other',
        SHIPLOG_ARGOCD_WEBHOOK_SECRET: 'other',
      },
    );
    expect(config.webhookSecrets).toEqual({ github: 'gh', gitlab: 'gl', jenkins: 'jk' });
  });

  it("matches the README's settings table, and `shiplog serve --help`", () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Running it'), readme.indexOf('Operations:'));
    const documented = [...section.matchAll(/^\| (`[^|]+`) \| ([^|]+) \|/gm)].flatMap(
      ([, setting, shown]) => {
        const names = (setting ?? '').split(' / ').map((name) => name.replace(/`/g, ''));
        const env = names.find((name) => name.startsWith('SHIPLOG_'));
        if (env === undefined || env.includes(',')) return []; // the client's SHIPLOG_URL, SHIPLOG_TOKEN
        return [
          {
            flag: names.find((name) => name.startsWith('--'))?.split(' ')[0],
            env,
            fileKey: names.find((name) => name.startsWith('server.'))?.slice('server.'.length),
            shown: shown?.trim().replace(/`/g, ''),
          },
        ];
      },
    );
    const table = Object.values(SERVE_SETTINGS)
      .filter((s) => !['SHIPLOG_SIGNING_KEY', 'SHIPLOG_LEDGER_ORIGIN'].includes(s.env ?? ''))
      .map((s) => ({ flag: s.flag, env: s.env, fileKey: s.fileKey, shown: s.shownDefault }));
    expect(documented).toEqual(table);
    const help = buildProgram()
      .commands.find((c) => c.name() === 'serve')
      ?.helpInformation();
    for (const setting of Object.values(SERVE_SETTINGS)) {
      if (setting.flag) expect(help).toContain(`${setting.flag} <`);
    }
  });
});
