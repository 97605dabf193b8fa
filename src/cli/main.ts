/**
 * The `shiplog` command. One file per command under commands/; this wrapper alone decides how
 * errors are printed (one line, details below it, a stack only with --debug) and the exit code.
 */
import { Command, CommanderError } from 'commander';
import { ShiplogError } from '../errors.js';
import { ApiError } from './client.js';
import { registerDeployments } from './commands/deployments.js';
import { registerEvent } from './commands/event.js';
import { registerRun } from './commands/run.js';
import { registerServe } from './commands/serve.js';
import { registerToken } from './commands/token.js';
import { registerVerify } from './commands/verify.js';
import { registerApprove } from './commands/approve.js';
import { registerConfig } from './commands/config.js';
import { registerSync } from './commands/sync.js';
import { registerGate } from './commands/gate.js';
import { registerCatalog } from './commands/catalog.js';
import { registerPostmortem } from './commands/postmortem.js';
import { registerBlame } from './commands/blame.js';
import { registerMetrics } from './commands/metrics.js';
import { registerReport } from './commands/report.js';
import { registerAlerts } from './commands/alerts.js';
import { registerArchive } from './commands/archive.js';
import { CliError } from './output.js';

export function buildProgram(): Command {
  const program = new Command('shiplog')
    .description('deployment tracking with a tamper-evident ledger')
    .version('0.1.0')
    .option('--debug', 'print stack traces (before the command: shiplog --debug event ...)')
    // Program options only before the command, so a command's own --version is its own.
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();
  registerServe(program);
  registerEvent(program);
  registerRun(program);
  registerDeployments(program);
  registerToken(program);
  registerVerify(program);
  registerGate(program);
  registerApprove(program);
  registerConfig(program);
  registerSync(program);
  registerCatalog(program);
  registerPostmortem(program);
  registerBlame(program);
  registerMetrics(program);
  registerReport(program);
  registerAlerts(program);
  registerArchive(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    const details =
      error instanceof ApiError || error instanceof CliError || error instanceof ShiplogError
        ? error.details
        : [];
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`shiplog: ${message}\n`);
    for (const d of details) process.stderr.write(`  ${d.path}: ${d.message}\n`);
    if (program.opts<{ debug?: boolean }>().debug && error instanceof Error)
      process.stderr.write(`${error.stack}\n`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  }
}
