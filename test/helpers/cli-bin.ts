/**
 * A runnable `shiplog` for tests that run shell snippets: every file of src/ transpiled (no type
 * check, so another module's work in progress does not block it) into node_modules/.cache, where
 * the package's dependencies resolve, and a `shiplog` wrapper in a folder to put first on PATH.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { ROOT } from './server-process.js';

export function buildCliBin(): { binDir: string; dispose: () => void } {
  const out = fs.mkdtempSync(path.join(ROOT, 'node_modules', '.cache', 'shiplog-cli-'));
  const src = path.join(ROOT, 'src');
  for (const entry of fs.readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: false,
      },
      fileName: file,
    });
    const target = path.join(out, path.relative(src, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, outputText);
  }
  fs.writeFileSync(
    path.join(out, 'bin.js'),
    "import { main } from './cli/main.js';\nawait main(process.argv);\n",
  );
  const binDir = path.join(out, 'bin');
  fs.mkdirSync(binDir);
  const wrapper = path.join(binDir, 'shiplog');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${path.join(out, 'bin.js')}" "$@"\n`);
  fs.chmodSync(wrapper, 0o755);
  return { binDir, dispose: () => fs.rmSync(out, { recursive: true, force: true }) };
}
