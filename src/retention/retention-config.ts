/**
 * `retention:` of shiplog.yaml (DESIGN.md §14, docs/retention.md):
 *
 * ```yaml
 * retention:
 *   hot: 30d                 # full records in the database only
 *   archive: 7y              # then also in a verified archive segment; past this, payloads leave the database
 *   purgeNonProduction: 90d  # non-production payloads leave the database after this, archived or not
 *   archiveDir: ./archive    # relative to the data folder; or s3: {bucket, prefix, endpoint?, region?}
 * ```
 *
 * Ages are durations (src/domain/duration.ts: `12h`, `30d`, `4w`, `7y`, `1y6w`). A year counts 366
 * days, so nothing is retired before its calendar anniversary.
 */
import { parseDuration } from '../domain/duration.js';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

type Problem = { path: (string | number)[]; message: string; atKey?: boolean };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const YEAR = 366 * DAY;

export interface S3Target {
  readonly bucket: string;
  /** Key prefix of the segments (default `shiplog/archive/`). */
  readonly prefix: string;
  /** An S3-compatible endpoint (MinIO, R2, ...); default: AWS. */
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
}

export interface RetentionConfig {
  readonly hotMs: number;
  readonly archiveMs: number;
  readonly purgeNonProductionMs: number;
  /** The archive folder as written (relative paths are relative to the data folder). */
  readonly archiveDir: string;
  /** When set, segments go to S3 instead of `archiveDir`. */
  readonly s3?: S3Target | undefined;
}

export const DEFAULT_RETENTION: RetentionConfig = Object.freeze({
  hotMs: 30 * DAY,
  archiveMs: 7 * YEAR,
  purgeNonProductionMs: 90 * DAY,
  archiveDir: './archive',
});

const KEYS = ['hot', 'archive', 'purgeNonProduction', 'archiveDir', 's3'];
const S3_KEYS = ['bucket', 'prefix', 'endpoint', 'region'];

/** A retention age above zero (`30d`, `7y`, `12h`, `4w`; src/domain/duration.ts) → milliseconds; undefined otherwise. */
export function parseAge(raw: unknown): number | undefined {
  const ms = parseDuration(raw);
  return ms !== undefined && ms > 0 ? ms : undefined;
}

/** Every problem of a `retention:` section, each with its path. */
export function validateRetention(value: unknown): Problem[] {
  if (value === undefined || value === null) return [];
  if (!isRecord(value)) return [{ path: ['retention'], message: 'must be a mapping' }];
  const problems: Problem[] = [];
  for (const key of Object.keys(value)) {
    if (!KEYS.includes(key)) {
      problems.push({
        path: ['retention', key],
        atKey: true,
        message: `is not a known key (${KEYS.join(', ')})`,
      });
    }
  }
  for (const key of ['hot', 'archive', 'purgeNonProduction'] as const) {
    if (value[key] !== undefined && parseAge(value[key]) === undefined) {
      problems.push({ path: ['retention', key], message: 'must be an age such as 30d, 12h, 4w or 7y' });
    }
  }
  const hot = parseAge(value.hot) ?? DEFAULT_RETENTION.hotMs;
  const archive = parseAge(value.archive) ?? DEFAULT_RETENTION.archiveMs;
  if (value.archive !== undefined && parseAge(value.archive) !== undefined && archive <= hot) {
    problems.push({ path: ['retention', 'archive'], message: 'must be longer than hot' });
  }
  if (value.archiveDir !== undefined && (typeof value.archiveDir !== 'string' || value.archiveDir === '')) {
    problems.push({ path: ['retention', 'archiveDir'], message: 'must be a folder path' });
  }
  if (value.s3 !== undefined) {
    if (value.archiveDir !== undefined) {
      problems.push({ path: ['retention', 's3'], atKey: true, message: 'give archiveDir or s3, not both' });
    }
    problems.push(...s3Problems(value.s3));
  }
  return problems;
}

function s3Problems(s3: unknown): Problem[] {
  const base = ['retention', 's3'];
  if (!isRecord(s3))
    return [{ path: base, message: 'must be a mapping {bucket, prefix, endpoint?, region?}' }];
  const problems: Problem[] = [];
  for (const key of Object.keys(s3)) {
    if (!S3_KEYS.includes(key)) {
      problems.push({
        path: [...base, key],
        atKey: true,
        message: `is not a known key (${S3_KEYS.join(', ')})`,
      });
    }
  }
  if (typeof s3.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s3.bucket)) {
    problems.push({
      path: [...base, 'bucket'],
      message: 'must be an S3 bucket name (3-63 characters of a-z 0-9 . -)',
    });
  }
  if (s3.prefix !== undefined && (typeof s3.prefix !== 'string' || s3.prefix.startsWith('/'))) {
    problems.push({ path: [...base, 'prefix'], message: 'must be a key prefix not starting with /' });
  }
  if (
    s3.endpoint !== undefined &&
    (typeof s3.endpoint !== 'string' || !/^https?:\/\/[^\s]+$/.test(s3.endpoint))
  ) {
    problems.push({ path: [...base, 'endpoint'], message: 'must be an http(s) URL' });
  }
  if (s3.region !== undefined && (typeof s3.region !== 'string' || !/^[a-z0-9-]{1,32}$/.test(s3.region))) {
    problems.push({ path: [...base, 'region'], message: 'must be a region name (eu-west-1)' });
  }
  return problems;
}

/** The `retention:` section, validated by {@link validateRetention}; absent: undefined. */
export function parseRetention(value: unknown): RetentionConfig | undefined {
  if (!isRecord(value)) return undefined;
  const s3 = isRecord(value.s3) ? value.s3 : undefined;
  const prefix = typeof s3?.prefix === 'string' ? s3.prefix : 'shiplog/archive/';
  return {
    hotMs: parseAge(value.hot) ?? DEFAULT_RETENTION.hotMs,
    archiveMs: parseAge(value.archive) ?? DEFAULT_RETENTION.archiveMs,
    purgeNonProductionMs: parseAge(value.purgeNonProduction) ?? DEFAULT_RETENTION.purgeNonProductionMs,
    archiveDir: typeof value.archiveDir === 'string' ? value.archiveDir : DEFAULT_RETENTION.archiveDir,
    s3: s3
      ? {
          bucket: String(s3.bucket),
          prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
          endpoint: typeof s3.endpoint === 'string' ? s3.endpoint : undefined,
          region: typeof s3.region === 'string' ? s3.region : undefined,
        }
      : undefined,
  };
}
