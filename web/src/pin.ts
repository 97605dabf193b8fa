/**
 * The pinned ledger verifier key (trust on first use): the first key this browser sees is kept
 * in localStorage; later proofs must verify against it, so a server that swaps its key (or a
 * proxy that serves another) fails loudly. The ledger page shows it and can replace it.
 */
import { getText } from './api';

const KEY = 'shiplog.pinnedVerifierKey';

export function pinnedKey(): string | null {
  return window.localStorage.getItem(KEY);
}

export function pinKey(key: string): void {
  window.localStorage.setItem(KEY, key.trim());
}

export async function pinnedOrFirstSeen(): Promise<string> {
  const pinned = pinnedKey();
  if (pinned) return pinned;
  const key = (await getText('/v1/ledger/key')).trim();
  pinKey(key);
  return key;
}
