import { describe, expect, it } from 'vitest';
import { formatLocal, instantAtWall, isValidTimeZone, wallClock } from './local-time.js';
import type { ChangeWindow, Freeze } from './policy-schema.js';
import { activeFreeze, isInsideWindow, nextWindowOpening } from './windows.js';

const at = (iso: string) => Date.parse(iso);
const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';
const office: ChangeWindow = {
  days: ['mon', 'tue', 'wed', 'thu'],
  from: '09:00',
  to: '16:00',
  timezone: BERLIN,
};

describe('local time', () => {
  it('reads the wall clock of an instant in a zone', () => {
    const local = wallClock(BERLIN, at('2026-11-30T08:15:30Z'));
    expect(local).toMatchObject({ year: 2026, month: 11, day: 30, weekday: 0, minuteOfDay: 9 * 60 + 15 });
  });

  it('maps wall time to an instant: exact, ambiguous (first occurrence), gap (end of gap)', () => {
    expect(instantAtWall(BERLIN, Date.UTC(2026, 10, 30, 9))).toBe(at('2026-11-30T08:00:00Z'));
    expect(instantAtWall(BERLIN, Date.UTC(2026, 9, 25, 2, 30))).toBe(at('2026-10-25T00:30:00Z'));
    expect(instantAtWall(BERLIN, Date.UTC(2026, 2, 29, 2, 30))).toBe(at('2026-03-29T01:00:00Z'));
    expect(instantAtWall(NEW_YORK, Date.UTC(2026, 2, 8, 2, 15))).toBe(at('2026-03-08T07:00:00Z'));
    expect(instantAtWall(NEW_YORK, Date.UTC(2026, 10, 1, 1, 30))).toBe(at('2026-11-01T05:30:00Z'));
  });

  it('knows IANA zones and rejects unknown ones', () => {
    expect(isValidTimeZone(BERLIN)).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Europe/Berln')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });

  it('formats a local moment for messages', () => {
    expect(formatLocal(BERLIN, at('2026-11-30T08:00:00Z'))).toBe('Mon 2026-11-30 09:00 Europe/Berlin');
  });
});

describe('isInsideWindow', () => {
  it('opens at `from` inclusive and closes at `to` exclusive, in winter and summer time', () => {
    expect(isInsideWindow(office, at('2026-11-30T07:59:59Z'))).toBe(false); // 08:59:59 CET
    expect(isInsideWindow(office, at('2026-11-30T08:00:00Z'))).toBe(true); // 09:00 CET
    expect(isInsideWindow(office, at('2026-11-30T14:59:59Z'))).toBe(true); // 15:59:59
    expect(isInsideWindow(office, at('2026-11-30T15:00:00Z'))).toBe(false); // 16:00
    expect(isInsideWindow(office, at('2026-07-06T07:00:00Z'))).toBe(true); // Mon 09:00 CEST
    expect(isInsideWindow(office, at('2026-07-06T06:59:00Z'))).toBe(false);
    expect(isInsideWindow(office, at('2026-07-06T14:00:00Z'))).toBe(false); // 16:00 CEST
  });

  it('uses the local day, not the UTC day', () => {
    // Friday 23:30 UTC is Saturday 00:30 in Berlin; Sunday 23:30 UTC is Monday 00:30.
    const late: ChangeWindow = { days: ['mon'], from: '00:00', to: '01:00', timezone: BERLIN };
    expect(isInsideWindow(late, at('2026-11-29T23:30:00Z'))).toBe(true);
    expect(isInsideWindow(late, at('2026-11-30T23:30:00Z'))).toBe(false);
  });

  it('Europe/Berlin spring forward (2026-03-29): a 02:30 edge falls into the gap', () => {
    const opensInGap: ChangeWindow = { days: ['sun'], from: '02:30', to: '04:00', timezone: BERLIN };
    expect(isInsideWindow(opensInGap, at('2026-03-29T00:59:59Z'))).toBe(false); // 01:59:59 CET
    expect(isInsideWindow(opensInGap, at('2026-03-29T01:00:00Z'))).toBe(true); // 03:00 CEST
    expect(isInsideWindow(opensInGap, at('2026-03-29T01:59:59Z'))).toBe(true); // 03:59:59
    expect(isInsideWindow(opensInGap, at('2026-03-29T02:00:00Z'))).toBe(false); // 04:00
    const closesInGap: ChangeWindow = { days: ['sun'], from: '01:00', to: '02:30', timezone: BERLIN };
    expect(isInsideWindow(closesInGap, at('2026-03-29T00:00:00Z'))).toBe(true); // 01:00 CET
    expect(isInsideWindow(closesInGap, at('2026-03-29T00:59:59Z'))).toBe(true); // 01:59:59 CET
    expect(isInsideWindow(closesInGap, at('2026-03-29T01:00:00Z'))).toBe(false); // 03:00 CEST
  });

  it('Europe/Berlin fall back (2026-10-25): 01:00-03:00 lasts three real hours', () => {
    const w: ChangeWindow = { days: ['sun'], from: '01:00', to: '03:00', timezone: BERLIN };
    expect(isInsideWindow(w, at('2026-10-24T22:59:59Z'))).toBe(false); // 00:59:59 CEST
    expect(isInsideWindow(w, at('2026-10-24T23:00:00Z'))).toBe(true); // 01:00 CEST
    expect(isInsideWindow(w, at('2026-10-25T00:30:00Z'))).toBe(true); // 02:30 CEST (first)
    expect(isInsideWindow(w, at('2026-10-25T01:30:00Z'))).toBe(true); // 02:30 CET (second)
    expect(isInsideWindow(w, at('2026-10-25T01:59:59Z'))).toBe(true); // 02:59:59 CET
    expect(isInsideWindow(w, at('2026-10-25T02:00:00Z'))).toBe(false); // 03:00 CET
  });

  it('America/New_York: office hours across both 2026 transitions', () => {
    const w: ChangeWindow = {
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      from: '09:00',
      to: '17:00',
      timezone: NEW_YORK,
    };
    expect(isInsideWindow(w, at('2026-03-06T14:00:00Z'))).toBe(true); // Fri 09:00 EST
    expect(isInsideWindow(w, at('2026-03-06T13:59:00Z'))).toBe(false);
    expect(isInsideWindow(w, at('2026-03-09T13:00:00Z'))).toBe(true); // Mon 09:00 EDT
    expect(isInsideWindow(w, at('2026-03-09T12:59:00Z'))).toBe(false);
    expect(isInsideWindow(w, at('2026-11-02T14:00:00Z'))).toBe(true); // Mon 09:00 EST
    expect(isInsideWindow(w, at('2026-11-02T13:00:00Z'))).toBe(false); // 08:00 EST
  });

  it('America/New_York: a window wholly inside the spring gap never opens; 01:00-02:00 doubles in autumn', () => {
    const gap: ChangeWindow = { days: ['sun'], from: '02:00', to: '02:30', timezone: NEW_YORK };
    expect(isInsideWindow(gap, at('2026-03-08T06:59:59Z'))).toBe(false); // 01:59:59 EST
    expect(isInsideWindow(gap, at('2026-03-08T07:00:00Z'))).toBe(false); // 03:00 EDT
    const doubled: ChangeWindow = { days: ['sun'], from: '01:00', to: '02:00', timezone: NEW_YORK };
    expect(isInsideWindow(doubled, at('2026-11-01T05:00:00Z'))).toBe(true); // 01:00 EDT
    expect(isInsideWindow(doubled, at('2026-11-01T06:00:00Z'))).toBe(true); // 01:00 EST
    expect(isInsideWindow(doubled, at('2026-11-01T06:59:59Z'))).toBe(true);
    expect(isInsideWindow(doubled, at('2026-11-01T07:00:00Z'))).toBe(false); // 02:00 EST
  });

  it('runs overnight when `to` is earlier than `from`: open from the listed day into the next', () => {
    const night: ChangeWindow = { days: ['fri'], from: '22:00', to: '02:00', timezone: 'UTC' };
    expect(isInsideWindow(night, at('2026-11-27T21:59:00Z'))).toBe(false); // Fri 21:59
    expect(isInsideWindow(night, at('2026-11-27T22:00:00Z'))).toBe(true); // Fri 22:00
    expect(isInsideWindow(night, at('2026-11-28T01:59:00Z'))).toBe(true); // Sat 01:59
    expect(isInsideWindow(night, at('2026-11-28T02:00:00Z'))).toBe(false); // Sat 02:00
    expect(isInsideWindow(night, at('2026-11-28T23:00:00Z'))).toBe(false); // Sat is not listed
    expect(isInsideWindow(night, at('2026-11-27T01:00:00Z'))).toBe(false); // Thu night is not listed
  });

  it('accepts 24:00 as the end of the day', () => {
    const evening: ChangeWindow = { days: ['mon'], from: '20:00', to: '24:00', timezone: 'UTC' };
    expect(isInsideWindow(evening, at('2026-11-30T23:59:59Z'))).toBe(true);
    expect(isInsideWindow(evening, at('2026-12-01T00:00:00Z'))).toBe(false);
  });
});

describe('nextWindowOpening', () => {
  it('names the next opening after a closed window, skipping days that are not listed', () => {
    const next = nextWindowOpening([office], at('2026-11-26T15:30:00Z')); // Thu 16:30 Berlin
    expect(next?.atMs).toBe(at('2026-11-30T08:00:00Z'));
    expect(next && formatLocal(next.window.timezone, next.atMs)).toBe('Mon 2026-11-30 09:00 Europe/Berlin');
  });

  it('finds a later opening on the same day, and the earliest of several windows', () => {
    const late: ChangeWindow = { days: ['thu'], from: '18:00', to: '20:00', timezone: NEW_YORK };
    expect(nextWindowOpening([office], at('2026-11-26T06:00:00Z'))?.atMs).toBe(at('2026-11-26T08:00:00Z'));
    const next = nextWindowOpening([office, late], at('2026-11-26T15:30:00Z'));
    expect(next?.window).toBe(late);
    expect(next?.atMs).toBe(at('2026-11-26T23:00:00Z')); // 18:00 EST
  });

  it('returns a window that opens a week later on the same weekday', () => {
    const monday: ChangeWindow = { days: ['mon'], from: '09:00', to: '10:00', timezone: BERLIN };
    expect(nextWindowOpening([monday], at('2026-11-30T08:30:00Z'))?.atMs).toBe(at('2026-12-07T08:00:00Z'));
  });

  it('opens at the end of the gap on spring-forward day and at the first 02:30 on fall-back day', () => {
    const spring: ChangeWindow = { days: ['sun'], from: '02:30', to: '04:00', timezone: BERLIN };
    expect(nextWindowOpening([spring], at('2026-03-28T12:00:00Z'))?.atMs).toBe(at('2026-03-29T01:00:00Z'));
    const autumn: ChangeWindow = { days: ['sun'], from: '02:30', to: '04:00', timezone: BERLIN };
    expect(nextWindowOpening([autumn], at('2026-10-24T12:00:00Z'))?.atMs).toBe(at('2026-10-25T00:30:00Z'));
  });

  it('is undefined without windows', () => {
    expect(nextWindowOpening([], at('2026-11-26T15:30:00Z'))).toBeUndefined();
  });
});

describe('activeFreeze', () => {
  const yearEnd: Freeze = { from: '2026-12-20T00:00:00Z', to: '2027-01-04T00:00:00Z', reason: 'year-end' };

  it('covers a fixed freeze from `from` inclusive to `to` exclusive', () => {
    expect(activeFreeze([yearEnd], at('2026-12-19T23:59:59Z'))).toBeUndefined();
    expect(activeFreeze([yearEnd], at('2026-12-20T00:00:00Z'))).toEqual({
      freeze: yearEnd,
      untilMs: at('2027-01-04T00:00:00Z'),
    });
    expect(activeFreeze([yearEnd], at('2027-01-03T23:59:59Z'))?.freeze).toBe(yearEnd);
    expect(activeFreeze([yearEnd], at('2027-01-04T00:00:00Z'))).toBeUndefined();
  });

  it('repeats a yearly freeze across the new year, in local time, every year', () => {
    const yearly: Freeze = {
      every: 'year',
      from: '12-20',
      to: '01-04',
      timezone: BERLIN,
      reason: 'holidays',
    };
    expect(activeFreeze([yearly], at('2026-12-19T22:59:59Z'))).toBeUndefined(); // Dec 19 23:59:59 local
    expect(activeFreeze([yearly], at('2026-12-19T23:00:00Z'))?.untilMs).toBe(at('2027-01-03T23:00:00Z'));
    expect(activeFreeze([yearly], at('2026-12-31T23:30:00Z'))?.untilMs).toBe(at('2027-01-03T23:00:00Z'));
    expect(activeFreeze([yearly], at('2027-01-02T12:00:00Z'))?.untilMs).toBe(at('2027-01-03T23:00:00Z'));
    expect(activeFreeze([yearly], at('2027-01-03T23:00:00Z'))).toBeUndefined();
    expect(activeFreeze([yearly], at('2030-01-01T00:00:00Z'))?.untilMs).toBe(at('2030-01-03T23:00:00Z'));
    expect(activeFreeze([yearly], at('2030-07-01T00:00:00Z'))).toBeUndefined();
  });

  it('handles a yearly freeze inside one year', () => {
    const summer: Freeze = {
      every: 'year',
      from: '07-01',
      to: '07-15',
      timezone: NEW_YORK,
      reason: 'summer',
    };
    expect(activeFreeze([summer], at('2026-07-01T03:59:00Z'))).toBeUndefined(); // Jun 30 23:59 EDT
    expect(activeFreeze([summer], at('2026-07-01T04:00:00Z'))?.untilMs).toBe(at('2026-07-15T04:00:00Z'));
  });

  it('repeats a weekly freeze across the weekend', () => {
    const weekend: Freeze = {
      every: 'week',
      from: 'fri 18:00',
      to: 'mon 06:00',
      timezone: BERLIN,
      reason: 'weekend',
    };
    expect(activeFreeze([weekend], at('2026-11-27T16:59:00Z'))).toBeUndefined(); // Fri 17:59
    expect(activeFreeze([weekend], at('2026-11-27T17:00:00Z'))?.untilMs).toBe(at('2026-11-30T05:00:00Z'));
    expect(activeFreeze([weekend], at('2026-11-29T12:34:56Z'))?.untilMs).toBe(at('2026-11-30T05:00:00Z'));
    expect(activeFreeze([weekend], at('2026-11-30T05:00:00Z'))).toBeUndefined();
    // The weekend of the autumn change: Friday is CEST, Monday CET.
    expect(activeFreeze([weekend], at('2026-10-23T16:00:00Z'))?.untilMs).toBe(at('2026-10-26T05:00:00Z'));
  });

  it('reports the freeze that lasts longest when several apply', () => {
    const weekend: Freeze = {
      every: 'week',
      from: 'fri 18:00',
      to: 'mon 06:00',
      timezone: 'UTC',
      reason: 'weekend',
    };
    expect(activeFreeze([weekend, yearEnd], at('2026-12-26T12:00:00Z'))?.freeze).toBe(yearEnd);
    expect(activeFreeze([], at('2026-12-26T12:00:00Z'))).toBeUndefined();
  });
});
