/** `shiplog serve`: run the server (SQLite under --data, or PostgreSQL with --database). */
import type { Command } from 'commander';
import { loadRuntimeConfig, type ServeFlags } from '../../config.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the shiplog server')
    .option('--data <dir>', 'folder for the embedded SQLite database and ledger key', '.shiplog')
    .option('--database <url>', 'PostgreSQL URL instead of SQLite (or SHIPLOG_DATABASE_URL)')
    .option('--port <port>', 'port to listen on', '7350')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--config <file>', 'shiplog.yaml configuration file')
    .option('--log-level <level>', 'log level (fatal, error, warn, info, debug)')
    .action(async (flags: ServeFlags) => {
      // Imported here so that client commands (run, event, ...) start without loading the server.
      const { startServer } = await import('../../server/serve.js');
      const running = await startServer(loadRuntimeConfig(flags));
      process.stderr.write(`shiplog listening on ${running.url} (${running.store.dialect})\n`);
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => {
          void running.stop().then(() => process.exit(0));
        });
      }
    });
}
