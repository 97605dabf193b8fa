/**
 * Archive segments in an S3-compatible bucket through the AWS SDK v3. Credentials come from the
 * standard AWS chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, an instance role);
 * shiplog.yaml holds only the bucket, prefix, endpoint and region. A segment is uploaded as a
 * stream in 8 MiB parts (@aws-sdk/lib-storage), never buffered whole.
 */
import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ShiplogError } from '../errors.js';
import type { S3Target } from './retention-config.js';
import type { SegmentStorage } from './segment-storage.js';

export function createS3Storage(target: S3Target): SegmentStorage {
  const client = new S3Client({
    ...(target.region ? { region: target.region } : {}),
    ...(target.endpoint ? { endpoint: target.endpoint, forcePathStyle: true } : {}),
  });
  const key = (name: string) => `${target.prefix}${name}`;
  return Object.freeze({
    location: `s3://${target.bucket}/${target.prefix}`,
    async write(name: string, body: Readable) {
      const upload = new Upload({
        client,
        params: { Bucket: target.bucket, Key: key(name), Body: body },
        partSize: 8 * 1024 * 1024,
        queueSize: 2,
      });
      await upload.done();
    },
    async read(name: string) {
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key(name) }));
        return object.Body as Readable;
      } catch (error) {
        if (error instanceof NoSuchKey) {
          throw new ShiplogError('SHIPLOG_NOT_FOUND', `no ${name} in s3://${target.bucket}/${target.prefix}`);
        }
        throw error;
      }
    },
    async list() {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page: ListObjectsV2CommandOutput = await client.send(
          new ListObjectsV2Command({
            Bucket: target.bucket,
            Prefix: target.prefix,
            ContinuationToken: token,
          }),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key) names.push(object.Key.slice(target.prefix.length));
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return names;
    },
  });
}
