/**
 * The ledger: the latest signed checkpoint verified in this browser against the pinned key, and
 * its consistency with the last checkpoint this browser saw (RFC 9162 §2.1.4, verified here):
 * the log only ever grew, nothing was rewritten.
 */
import { useQuery } from '@tanstack/react-query';
import { getJson, getText } from '../api';
import { pinKey, pinnedOrFirstSeen } from '../pin';
import { hexToBytes, parseVerifierKey, toHex, verifyCheckpointNote, verifyConsistency } from '../proof';
import type { CheckpointJson } from '../types';
import { Failure, Loading, Page } from '../ui';

const SEEN = 'shiplog.lastCheckpoint';

interface Seen {
  size: number;
  rootHash: string;
}

async function check() {
  const [checkpoint, serverKey, pinned] = await Promise.all([
    getJson<CheckpointJson>('/v1/ledger/checkpoint?format=json'),
    getText('/v1/ledger/key'),
    pinnedOrFirstSeen(),
  ]);
  const lines: string[] = [];
  let ok = true;
  try {
    const key = await parseVerifierKey(pinned);
    const verified = await verifyCheckpointNote(checkpoint.note, key);
    lines.push(
      `checkpoint of ${verified.size} entries, root ${toHex(verified.rootHash)}, signed by ${key.name}+${key.keyId}`,
    );
    const raw = window.localStorage.getItem(SEEN);
    const seen = raw ? (JSON.parse(raw) as Seen) : null;
    if (seen && seen.size <= verified.size) {
      const proof = await getJson<{ hashes: string[] }>(
        `/v1/ledger/proof/consistency?from=${seen.size}&to=${verified.size}`,
      );
      const consistent =
        seen.size === 0 ||
        (await verifyConsistency(
          seen.size,
          verified.size,
          proof.hashes.map(hexToBytes),
          hexToBytes(seen.rootHash),
          verified.rootHash,
        ));
      if (!consistent)
        throw new Error(
          `the ledger of ${verified.size} does not extend the one of ${seen.size} this browser saw`,
        );
      lines.push(
        `consistent with the checkpoint of ${seen.size} seen before (${proof.hashes.length} hashes)`,
      );
    } else if (seen && seen.size > verified.size) {
      throw new Error(`the ledger shrank: ${verified.size} entries now, ${seen.size} seen before`);
    }
    window.localStorage.setItem(
      SEEN,
      JSON.stringify({ size: verified.size, rootHash: toHex(verified.rootHash) }),
    );
  } catch (error) {
    ok = false;
    lines.push(error instanceof Error ? error.message : String(error));
  }
  return { checkpoint, serverKey: serverKey.trim(), pinned, ok, lines };
}

export function LedgerView() {
  const result = useQuery({ queryKey: ['ledger'], queryFn: check, refetchInterval: 30_000 });
  if (result.isPending) return <Loading what="checkpoint" />;
  if (result.error) return <Failure error={result.error} />;
  const r = result.data;
  return (
    <Page title="Ledger">
      <div className={`proof ${r.ok ? 'proof-ok' : 'proof-bad'}`} data-testid="ledger-check">
        <p role={r.ok ? 'status' : 'alert'}>
          <strong>{r.ok ? '✓ Checkpoint verified in this browser' : '✕ LEDGER CHECK FAILED'}</strong>
        </p>
        <ul className="small">
          {r.lines.map((line, i) => (
            <li key={i}>{line}</li>
          ))}
        </ul>
      </div>
      <h2>Signed checkpoint</h2>
      <pre className="note">{r.checkpoint.note}</pre>
      <h2>Pinned verifier key</h2>
      <p className="mono small">{r.pinned}</p>
      {r.serverKey !== r.pinned && (
        <p className="error" role="alert">
          The server now signs with another key: {r.serverKey}.{' '}
          <button
            type="button"
            onClick={() => {
              pinKey(r.serverKey);
              void result.refetch();
            }}
          >
            Trust the new key
          </button>
        </p>
      )}
      <p className="muted small">
        The first key this browser saw is pinned (trust on first use); compare it with the key your operator
        publishes (<code>shiplog verify</code> prints it).
      </p>
    </Page>
  );
}
