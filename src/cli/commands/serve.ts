/** `shiplog serve`: run the server (SQLite under --data, or PostgreSQL with --database). */
import type { Command } from 'commander';
import { SERVE_SETTINGS, type ServeFlags } from '../../config.js';

export function registerServe(program: Command): void {
  const serve = program.command('serve').description('run the shiplog server');
  // From the one settings table, and without commander defaults: a flag that is not given
  // must leave the value to the environment and the configuration file.
  for (const setting of Object.values(SERVE_SETTINGS)) {
    if (setting.flag === undefined) continue;
    const source = setting.env === undefined ? '' : `; or ${setting.env}`;
    serve.option(
      `${setting.flag} <${setting.arg ?? 'value'}>`,
      `${setting.doc} (default ${setting.shownDefault}${source})`,
    );
  }
  serve.action(async (flags: ServeFlags) => {
    // Imported here so that client commands (run, event, ...) start without loading the server.
    const { loadServeConfig } = await import('../../config-file.js');
    const { startServer } = await import('../../server/serve.js');
    const { runtime, file } = loadServeConfig(flags);
    const running = await startServer(runtime, file);
    process.stderr.write(`shiplog listening on ${running.url} (${running.store.dialect})\n`);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        void running.stop().then(() => process.exit(0));
      });
    }
  });
}
