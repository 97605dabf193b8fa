/**
 * A hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014). Each received
 * event gets a stamp that is monotone in this process, close to physical time, and advanced
 * past the sender's timestamp so causality survives skewed CI runner clocks. A sender's time
 * further than `maxDriftMs` in the future is ignored, so one runner with a clock an hour ahead
 * cannot drag every later stamp with it.
 */

export interface HlcStamp {
  readonly wallMs: number;
  readonly logical: number;
}

export interface HybridLogicalClock {
  /** A stamp for a local event. */
  now(): HlcStamp;
  /** A stamp for receiving an event the sender stamped at `remoteMs`. */
  receive(remoteMs: number): HlcStamp;
}

export function createHybridLogicalClock(
  physicalNow: () => number = Date.now,
  maxDriftMs = 60_000,
): HybridLogicalClock {
  let wallMs = 0;
  let logical = 0;
  function advance(remoteMs: number): HlcStamp {
    const pt = physicalNow();
    const remote = remoteMs > pt + maxDriftMs ? 0 : remoteMs;
    const next = Math.max(wallMs, remote, pt);
    logical = next === wallMs ? logical + 1 : 0;
    wallMs = next;
    return { wallMs, logical };
  }
  return { now: () => advance(0), receive: (remoteMs) => advance(remoteMs) };
}

/** A fixed-width string that sorts like the stamp. */
export function formatHlc(stamp: HlcStamp): string {
  return `${stamp.wallMs.toString().padStart(15, '0')}.${stamp.logical.toString().padStart(6, '0')}`;
}
