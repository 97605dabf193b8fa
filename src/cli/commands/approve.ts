/** `shiplog approve <deployment>` and `shiplog reject <deployment> --comment`: DESIGN.md §8. */
import type { Command } from 'commander';
import { loadClientConfig } from '../../config.js';
import { request } from '../client.js';

interface Flags {
  comment?: string;
  json?: boolean;
  url?: string;
  token?: string;
}

interface DecideAnswer {
  approval: { id: string; approver: string; decision: string; version: string; expiresAt: string | null };
  status: string;
  approved: boolean;
}

export function registerApprove(program: Command): void {
  for (const decision of ['approve', 'reject'] as const) {
    const command = program
      .command(`${decision} <deployment>`)
      .description(
        decision === 'approve'
          ? 'approve a deployment (not your own): the approval is for its version only'
          : 'reject a deployment, with a comment saying why',
      );
    if (decision === 'reject') command.requiredOption('--comment <text>', 'why');
    else command.option('--comment <text>', 'a note for the audit trail');
    command
      .option('--json', 'print the JSON answer')
      .option('--url <url>', 'shiplog URL (or SHIPLOG_URL)')
      .option('--token <token>', 'API token (or SHIPLOG_TOKEN)')
      .action(async (deployment: string, flags: Flags) => {
        const config = loadClientConfig(flags);
        const answer = await request<DecideAnswer>(
          config,
          'POST',
          `/v1/deployments/${encodeURIComponent(deployment)}/approvals`,
          { decision, comment: flags.comment ?? '' },
        );
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
          return;
        }
        const { approval } = answer;
        process.stdout.write(
          `${approval.decision === 'approve' ? 'approved' : 'rejected'} ${deployment} ${approval.version} as ${approval.approver}; ` +
            `status ${answer.status}${answer.approved ? ' (approvals met)' : ''}` +
            `${approval.expiresAt ? `; expires ${approval.expiresAt}` : ''}\n`,
        );
      });
  }
}
