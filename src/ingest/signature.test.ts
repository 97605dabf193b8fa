import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyGithubSignature, verifyPagerDutySignature, verifySharedToken } from './signature.js';

describe('verifyGithubSignature', () => {
  // The test vector of GitHub's "Validating webhook deliveries" page.
  const secret = "It's a Secret to Everybody";
  const header = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

  it('accepts the documented vector', () => {
    expect(verifyGithubSignature(Buffer.from('Hello, World!'), header, secret)).toBe(true);
    expect(
      verifyGithubSignature(
        Buffer.from('Hello, World!'),
        header.toUpperCase().replace('SHA256=', 'sha256='),
        secret,
      ),
    ).toBe(true);
  });

  it.each([
    ['another body', Buffer.from('Hello, World?'), header, secret],
    ['another secret', Buffer.from('Hello, World!'), header, 'secret'],
    ['no header', Buffer.from('Hello, World!'), undefined, secret],
    ['sha1 header', Buffer.from('Hello, World!'), 'sha1=0123', secret],
    ['short digest', Buffer.from('Hello, World!'), header.slice(0, -2), secret],
    ['empty secret', Buffer.from('Hello, World!'), header, ''],
  ])('refuses %s', (_, body, h, s) => {
    expect(verifyGithubSignature(body, h, s)).toBe(false);
  });
});

describe('verifySharedToken', () => {
  it('compares in constant time, whatever the lengths', () => {
    expect(verifySharedToken('s3cret', 's3cret')).toBe(true);
    expect(verifySharedToken('s3cret', 's3cret!')).toBe(false);
    expect(verifySharedToken(undefined, 's3cret')).toBe(false);
    expect(verifySharedToken('', '')).toBe(false);
  });
});

describe('verifyPagerDutySignature', () => {
  const body = Buffer.from('{"event":{"event_type":"incident.triggered"}}');
  const sign = (secret: string) => `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;

  it('accepts any matching v1 value (secret rotation)', () => {
    expect(verifyPagerDutySignature(body, sign('new'), 'new')).toBe(true);
    expect(verifyPagerDutySignature(body, `${sign('old')},${sign('new')}`, 'new')).toBe(true);
    expect(verifyPagerDutySignature(body, `${sign('old')}, ${sign('new')}`, 'old')).toBe(true);
  });

  it('refuses no match, other schemes and garbage', () => {
    expect(verifyPagerDutySignature(body, `${sign('old')},${sign('other')}`, 'new')).toBe(false);
    expect(verifyPagerDutySignature(body, sign('new').replace('v1=', 'v2='), 'new')).toBe(false);
    expect(verifyPagerDutySignature(body, ',,,', 'new')).toBe(false);
    expect(verifyPagerDutySignature(body, undefined, 'new')).toBe(false);
  });
});
