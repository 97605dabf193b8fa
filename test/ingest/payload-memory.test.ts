/**
 * Security review finding 17: the deployment-key builder cached a verdict per distinct
 * character it ever saw, so payloads full of distinct Unicode characters grew the server's
 * memory without bound. The heap is measured after a full collection, before and after.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { deploymentKey } from '../../src/ingest/payload.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('deployment keys', () => {
  it('keys full of distinct characters do not grow memory', () => {
    // 400 000 distinct code points past the ASCII range (surrogates skipped), 2000 per key.
    const codes = Array.from({ length: 400_000 }, (_, i) => 0x100 + i).filter(
      (c) => c < 0xd800 || c > 0xdfff,
    );
    const keys: string[] = [];
    for (let i = 0; i < codes.length; i += 2000) keys.push(String.fromCodePoint(...codes.slice(i, i + 2000)));
    const before = heapAfterGc();
    let length = 0;
    for (const key of keys) length += deploymentKey('generic', key).length;
    const grown = heapAfterGc() - before;
    expect(length).toBeGreaterThan(0);
    expect(grown).toBeLessThan(4 * 1024 * 1024);
  });

  it('still maps characters the schema refuses to "-" and "/" to ":"', () => {
    expect(deploymentKey('github', 'octo-org/api', 'run 1é')).toBe('github:octo-org:api:run-1-');
  });
});
