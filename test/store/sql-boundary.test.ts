/**
 * The store owns its SQL (eslint.config.js): outside src/store, code may not import Kysely,
 * reach for the store's query builder or call one. These cases lint snippets as if they were
 * files of the project, so the rule cannot be loosened by accident.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
    .map((m) => m.message);
}

const IMPORT_KYSELY = "import { sql } from 'kysely';\nexport const q = sql`select 1`;\n";
const READ_DB = 'export const f = (store: { db: unknown }) => store.db;\n';
const DESTRUCTURE_DB = 'export const f = ({ db }: { db: unknown }) => db;\n';
const QUERY =
  "export const f = (trx: { selectFrom(t: string): unknown }) => trx.selectFrom('deployments');\n";

describe('only src/store holds SQL', () => {
  it('refuses a Kysely import, the store handle and a query builder in routes, governance and the CLI', async () => {
    for (const file of [
      'src/server/routes/x.ts',
      'src/governance/x.ts',
      'src/cli/commands/x.ts',
      'src/x.ts',
    ]) {
      expect(await problems(file, IMPORT_KYSELY), file).toHaveLength(1);
      expect(await problems(file, READ_DB), file).toHaveLength(1);
      expect(await problems(file, DESTRUCTURE_DB), file).toHaveLength(1);
      expect(await problems(file, QUERY), file).toHaveLength(1);
    }
  });

  it('lets tests take the raw handle only from test/helpers/raw-sql.ts', async () => {
    expect(await problems('test/server/x.test.ts', READ_DB)).toHaveLength(1);
    expect(await problems('test/server/x.test.ts', IMPORT_KYSELY)).toHaveLength(1);
    expect(await problems('test/helpers/raw-sql.ts', READ_DB)).toEqual([]);
  });

  it('allows all of it inside src/store', async () => {
    for (const code of [IMPORT_KYSELY, READ_DB, DESTRUCTURE_DB, QUERY]) {
      expect(await problems('src/store/x.ts', code)).toEqual([]);
    }
  });
});
