/**
 * A `shiplog` command on PATH for tests that run shell snippets: a wrapper around the real,
 * built `bin/shiplog.js` (`npm test` builds before it runs the tests), in a temporary folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN } from './server-process.js';

export function buildCliBin(): { binDir: string; dispose: () => void } {
  const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shiplog-bin-'));
  const wrapper = path.join(binDir, 'shiplog');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  fs.chmodSync(wrapper, 0o755);
  return { binDir, dispose: () => fs.rmSync(binDir, { recursive: true, force: true }) };
}
