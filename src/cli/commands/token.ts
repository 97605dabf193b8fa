/** `shiplog token create|list|revoke`: manage API tokens (admin). */
import type { Command } from 'commander';
import { loadClientConfig } from '../../config.js';
import type { Token } from '../../store/tokens-repository.js';
import { request } from '../client.js';
import { printTable } from '../output.js';

interface Common {
  url?: string;
  token?: string;
  json?: boolean;
}

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function registerToken(program: Command): void {
  const token = program.command('token').description('manage API tokens (needs an admin token)');
  const common = (c: Command) =>
    c
      .option('--url <url>', 'shiplog URL (or SHIPLOG_URL)')
      .option('--token <token>', 'admin token (or SHIPLOG_TOKEN)')
      .option('--json', 'print JSON');

  common(
    token
      .command('create')
      .description('create a token; its secret is printed once')
      .requiredOption('--name <name>', 'identity recorded on everything the token does')
      .requiredOption('--role <role>', 'admin, approver, deployer, viewer or auditor')
      .option('--services <list>', 'comma-separated services a deployer token may write', list)
      .option('--environments <list>', 'comma-separated environments a deployer token may write', list),
  ).action(
    async (flags: Common & { name: string; role: string; services?: string[]; environments?: string[] }) => {
      const scopes =
        flags.services || flags.environments
          ? {
              ...(flags.services ? { services: flags.services } : {}),
              ...(flags.environments ? { environments: flags.environments } : {}),
            }
          : undefined;
      const created = await request<{ id: string; name: string; role: string; token: string }>(
        loadClientConfig(flags),
        'POST',
        '/v1/tokens',
        { name: flags.name, role: flags.role, scopes },
      );
      if (flags.json) process.stdout.write(`${JSON.stringify(created)}\n`);
      else process.stdout.write(`${created.token}\n`);
      if (!flags.json)
        process.stderr.write(
          `created ${created.role} token ${created.id} for ${created.name}; the secret above is shown once\n`,
        );
    },
  );

  common(token.command('list').description('list tokens (never their secrets)')).action(
    async (flags: Common) => {
      const config = loadClientConfig(flags);
      const items: Token[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const next: { items: Token[]; nextCursor: string | null } = await request(
          config,
          'GET',
          `/v1/tokens?limit=200${query}`,
        );
        items.push(...next.items);
        cursor = next.nextCursor;
      } while (cursor !== null);
      const page = { items };
      if (flags.json) return void process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
      printTable(
        page.items.map((t) => ({
          id: t.id,
          name: t.name,
          role: t.role,
          scopes: t.scopes ? JSON.stringify(t.scopes) : '',
          created: t.createdAt,
          revoked: t.revokedAt ?? '',
        })),
        ['id', 'name', 'role', 'scopes', 'created', 'revoked'],
      );
    },
  );

  common(token.command('revoke').description('revoke a token').argument('<id>', 'token id')).action(
    async (id: string, flags: Common) => {
      const revoked = await request<Token>(
        loadClientConfig(flags),
        'DELETE',
        `/v1/tokens/${encodeURIComponent(id)}`,
      );
      process.stdout.write(`revoked ${revoked.id} (${revoked.name})\n`);
    },
  );
}
