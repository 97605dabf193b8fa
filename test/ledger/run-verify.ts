/**
 * Runs `shiplog verify ARGS` in this process through the command's own registration and the
 * CLI's error convention (one `shiplog: ...` line, CliError exit codes), capturing its output.
 */
import { Command } from 'commander';
import { vi } from 'vitest';
import { registerVerify } from '../../src/cli/commands/verify.js';
import { CliError } from '../../src/cli/output.js';

export async function runVerify(
  args: readonly string[],
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => (out.push(String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => (err.push(String(c)), true));
  const program = new Command('shiplog').exitOverride();
  registerVerify(program);
  let code = 0;
  try {
    await program.parseAsync(['node', 'shiplog', 'verify', ...args]);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    err.push(`shiplog: ${message}\n`);
    if (error instanceof CliError) for (const d of error.details) err.push(`  ${d.path}: ${d.message}\n`);
    code = error instanceof CliError ? error.exitCode : 1;
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { code, out: out.join(''), err: err.join('') };
}
