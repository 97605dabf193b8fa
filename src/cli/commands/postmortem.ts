/** `shiplog postmortem KEY`: prints the incident's timeline as Markdown for a post-mortem document. */
import type { Command } from 'commander';
import { loadClientConfig } from '../../config.js';
import { ApiError } from '../client.js';

interface Flags {
  url?: string;
  token?: string;
}

export function registerPostmortem(program: Command): void {
  program
    .command('postmortem')
    .description('print the post-mortem timeline of an incident as Markdown')
    .argument('<key>', 'the incident key')
    .option('--url <url>', 'shiplog URL (or SHIPLOG_URL)')
    .option('--token <token>', 'API token (or SHIPLOG_TOKEN)')
    .action(async (key: string, flags: Flags) => {
      const config = loadClientConfig(flags);
      const url = `${config.url}/v1/incidents/${encodeURIComponent(key)}/timeline?format=md`;
      let response: Response;
      try {
        response = await fetch(url, {
          headers: config.token ? { authorization: `Bearer ${config.token}` } : {},
          signal: AbortSignal.timeout(config.timeoutMs),
        });
      } catch (error) {
        throw new ApiError(`cannot reach shiplog at ${config.url}: ${(error as Error).message}`, 0);
      }
      const text = await response.text();
      if (!response.ok) {
        let message = text.slice(0, 200);
        try {
          const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
          message = `${body.error?.code ?? ''}: ${body.error?.message ?? ''}`;
        } catch {
          // not JSON: keep the text
        }
        throw new ApiError(`${String(response.status)} ${message}`, response.status);
      }
      process.stdout.write(text);
    });
}
