/** The README.md of an evidence bundle: what is in it and how to check it, for the auditor. */
import type { AuditReportHeader } from './audit-report.js';

export function bundleReadme(h: AuditReportHeader): string {
  return `# Evidence bundle: deployments to ${h.environment}, ${h.month}

Built ${h.generatedAt} by ${h.generatedBy} from the shiplog ledger \`${h.checkpoint.origin}\`
at ${h.checkpoint.size} entries (root hash ${h.checkpoint.rootHash}). The month runs from
${h.from} to ${h.to} (${h.timeZone}).

## Check it

    shiplog verify --bundle THIS_FILE.tar.gz

checks everything below using nothing but this bundle, and names the first problem it finds
(\`checkpoint_forged\`, \`proof_invalid\`, \`row_mismatch\`, \`row_missing\`, \`range_mismatch\`,
\`range_start_unproven\`, \`summary_mismatch\`, \`bundle_malformed\`). Compare the key in
\`verifier-key.txt\` with the one the ledger's operator published (GET /v1/ledger/key):
the bundle proves it is consistent with that key, not that the key is theirs.

## What is here

| file | |
| --- | --- |
| \`checkpoint.txt\` | the signed checkpoint: origin, tree size, base64 root hash, blank line, Ed25519 signature line (C2SP tlog-checkpoint, signed-note format) |
| \`verifier-key.txt\` | the note verifier key \`<name>+<key id>+<base64 of 0x01 and the 32-byte Ed25519 key>\` |
| \`report.json\` | the report: header, one row per line, summary |
| \`report.html\` | the same report, printable |
| \`cited.jsonl\` | every ledger entry a row cites, in row order: index, entry bytes, RFC 9162 inclusion proof against the checkpoint |
| \`range.json\` | the run of ledger entries the completeness check reads: start, end (= tree size), the hashes of the complete subtrees before it, and the last event received before it with its proof |
| \`leaves.jsonl\` | every entry of the run: index, leaf hash, entry bytes |

## By hand (RFC 9162 §2.1)

1. Signature: the note text is everything up to and including the blank line's preceding
   newline; the signature line is \`— <name> <base64(4-byte key id || 64-byte Ed25519 signature)>\`;
   verify the Ed25519 signature over the text with the key in \`verifier-key.txt\`.
2. Each cited entry: leaf hash = SHA-256(0x00 || entry bytes as UTF-8); fold the proof per
   RFC 9162 §2.1.3.2 with the entry's index and the tree size; the result must be the root.
3. Each row: its values come from the entries listed in its \`evidence\` (events, approvals,
   gate decisions); docs/audit.md gives the rules.
4. Completeness: hash each leaf of \`leaves.jsonl\`, merge them onto the \`frontier\` hashes of
   \`range.json\` as RFC 9162 §2.1.1 builds a tree (equal-sized neighbours combine as
   SHA-256(0x01 || left || right)); the final root must be the checkpoint's. Then every
   \`recordType: "event"\` entry of environment ${h.environment} timed in the month must belong
   to a deployment in the report.
`;
}
