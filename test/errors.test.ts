import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../src/errors.js';

describe('error catalog', () => {
  const doc = fs.readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map(
    [...doc.matchAll(/^\| `(SHIPLOG_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]),
  );

  it('documents every code with its status in docs/errors.md', () => {
    for (const [code, { status }] of Object.entries(ERRORS)) expect(rows.get(code), code).toBe(status);
  });

  it('documents no code that does not exist', () => {
    for (const code of rows.keys()) expect(Object.keys(ERRORS)).toContain(code);
  });
});
