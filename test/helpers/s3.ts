// A real S3-protocol server (s3rver) on 127.0.0.1 for the tests of media in a bucket (CONTRACT §10): its own temporary
// directory and bucket, spoken to through the real AWS SDK. s3rver takes any secret for its one access key, S3RVER.
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, S3MediaStorage, type S3MediaStorageOptions } from '../../src/media/storage/s3.ts';

interface S3rverOptions {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string }[];
}
interface S3rver {
  httpServer: Server;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
// s3rver ships no types.
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: S3rverOptions) => S3rver;

export interface TestS3 {
  endpoint: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** A client of the server, to look or write behind the storages' backs. */
  client: S3Client;
  /** A storage on the bucket (or on what `options` change), closed by stop(). */
  storage(options?: Partial<S3MediaStorageOptions>): S3MediaStorage;
  /** Every key in the bucket, sorted: staging objects included. */
  keys(): Promise<string[]>;
  /** How many parts of multipart uploads the server has stored so far. */
  partsStored(): number;
  stop(): Promise<void>;
}

export async function startS3(bucket = 'media'): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const options: S3MediaStorageOptions = { bucket, endpoint, forcePathStyle: true, credentials };
  const client = createS3Client(options);
  const opened: S3MediaStorage[] = [];
  let partsStored = 0;
  server.httpServer.on('request', (req, res) => {
    if (req.method === 'PUT' && /[?&]partNumber=/.test(req.url ?? '')) res.on('finish', () => partsStored++);
  });
  return {
    endpoint,
    bucket,
    credentials,
    client,
    storage(changes = {}) {
      const storage = new S3MediaStorage({ ...options, ...changes });
      opened.push(storage);
      return storage;
    },
    async keys() {
      // One page: a test's bucket holds far fewer than 1000 objects.
      const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return Contents.map((object) => object.Key!).sort();
    },
    partsStored: () => partsStored,
    async stop() {
      for (const storage of opened) storage.close();
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
