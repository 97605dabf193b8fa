/** Runs every benchmark (or those named on the command line) and prints their ratios. */
import { benchAlerts } from './alerts.js';
import { benchArchive } from './archive.js';
import { benchBatch, benchSingleEvent } from './ingest.js';
import { benchCorrelation } from './correlation.js';
import { benchDora } from './dora.js';
import { benchGate } from './gate.js';
import { benchInclusionProof, benchLedgerIngest, benchVerify } from './ledger.js';
import { benchReports } from './reports.js';
import { benchScale } from './scale.js';
import { benchStream } from './stream.js';
import { benchWebhooks } from './webhooks.js';

const all: Record<string, () => Promise<boolean>> = {
  single: benchSingleEvent,
  batch: benchBatch,
  scale: benchScale,
  'ledger-ingest': benchLedgerIngest,
  verify: benchVerify,
  proof: benchInclusionProof,
  gate: benchGate,
  webhooks: benchWebhooks,
  correlation: benchCorrelation,
  dora: benchDora,
  reports: benchReports,
  alerts: benchAlerts,
  stream: benchStream,
  archive: benchArchive,
};

const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(all);
let ok = true;
for (const name of names) {
  const bench = all[name];
  if (!bench) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(all).join(', ')}`);
  ok = (await bench()) && ok;
}
process.exitCode = ok ? 0 : 1;
