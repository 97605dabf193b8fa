import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const SQL_IN_STORE =
  'SQL lives in src/store: use (or add) a repository on the store instead of the query builder';
/** Kysely's query and transaction entry points. */
const QUERY_BUILDERS =
  '/^(selectFrom|selectNoFrom|insertInto|replaceInto|updateTable|deleteFrom|mergeInto|with|withRecursive|transaction|connection|executeQuery)$/';
const NO_KYSELY = {
  paths: [{ name: 'kysely', message: SQL_IN_STORE }],
  patterns: [{ group: ['kysely/*'], message: SQL_IN_STORE }],
};
/** The store's Kysely handle (`store.db`), read or destructured. */
const NO_DB_HANDLE = [
  { selector: "MemberExpression[property.name='db']", message: SQL_IN_STORE },
  { selector: "ObjectPattern > Property[key.name='db']", message: SQL_IN_STORE },
];

export default tseslint.config(
  { ignores: ['dist/', 'dist-bench/', 'node_modules/', 'coverage/', 'web/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'describe', property: 'only', message: 'no focused tests' },
        { object: 'it', property: 'only', message: 'no focused tests' },
        { object: 'test', property: 'only', message: 'no focused tests' },
      ],
    },
  },
  // The store owns its SQL: only src/store imports Kysely or touches the query builder; the rest
  // of shiplog reads and writes through the repositories on the store (src/store/database.ts).
  {
    files: ['src/**/*.ts', 'bin/**/*.js'],
    ignores: ['src/store/**'],
    rules: {
      'no-restricted-imports': ['error', NO_KYSELY],
      'no-restricted-syntax': [
        'error',
        ...NO_DB_HANDLE,
        { selector: `CallExpression[callee.property.name=${QUERY_BUILDERS}]`, message: SQL_IN_STORE },
      ],
    },
  },
  // Tests use the repositories; the few that tamper with rows or read what no repository exposes
  // take the raw handle from test/helpers/raw-sql.ts, so every such use is easy to find.
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    ignores: ['test/helpers/raw-sql.ts'],
    rules: {
      'no-restricted-imports': ['error', NO_KYSELY],
      'no-restricted-syntax': ['error', ...NO_DB_HANDLE],
    },
  },
);
