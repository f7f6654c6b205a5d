// Several replicas end to end (CONTRACT §9): three gateway processes on one PostgreSQL database and one Redis, in front
// of one simulator process. Jobs are created round-robin through the replicas and followed on another replica than the
// one that created them. The first asset read hangs, so the replica storing that job holds its lease mid-step: that
// replica is SIGKILLed, and another must take the job over within 20 s. Every job must succeed, be submitted once,
// keep gapless events and stay within the gateway-wide in-flight cap, and every subscriber on a surviving replica
// must get its terminal message. Media live in one bucket (a real S3-protocol server) and each replica has a media
// directory of its own, so every video must be served by every surviving replica from the bucket.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startGateway, startSimulator, type StartedGateway, type StartedSimulator } from '../bench/lib/launch.ts';
import { spawnNode } from '../bench/lib/proc.ts';
import { createTokenFor } from '../src/auth/tokens.ts';
import { RemoteSimulator } from '../src/simulator/remote.ts';
import { openStore } from '../src/store/open.ts';
import type { Store } from '../src/store/store.ts';
import { createTestDatabase } from './helpers/postgres.ts';
import { startS3, type TestS3 } from './helpers/s3.ts';
import { hasPostgres, hasRedis, TEST_REDIS_URL, uniqueName } from './helpers/services.ts';

const JOBS = 9;
const IN_FLIGHT_CAP = 3;
const TAKEOVER_GOAL_MS = 20_000;

interface Follower {
  replica: number;
  jobId: string;
  messages: Array<{ version: number; status: string }>;
  completed: boolean;
}

const JOB_UPDATED = 'subscription($id: ID!) { jobUpdated(id: $id) { id version status } }';
const OWNER_UPDATES = 'subscription { videoJobsUpdated { id version status } }';

async function gql(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function waitFor<T>(check: () => Promise<T | null | false>, timeoutMs: number, label: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!hasPostgres || !hasRedis)('three replicas on one PostgreSQL database and one Redis', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let simulator: StartedSimulator;
  let s3: TestS3;
  const replicas: StartedGateway[] = [];
  const clients: Client[] = [];
  const mediaDir = mkdtempSync(join(tmpdir(), 'replicas-media-'));
  let token = '';
  /** Reads the shared database as the token CLI would (no lease, no replica lock). */
  let reader: Store;

  beforeAll(async () => {
    database = await createTestDatabase();
    simulator = await startSimulator({ jobSeconds: 3, concurrency: 50, core: null });
    s3 = await startS3('replicas');
    const env = {
      MEDIA_S3_BUCKET: s3.bucket,
      MEDIA_S3_ENDPOINT: s3.endpoint,
      MEDIA_S3_FORCE_PATH_STYLE: 'true',
      // The gateway's own /media URLs: each replica streams from the bucket.
      MEDIA_URL_MODE: 'gateway',
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: `${uniqueName('replicas')}:`,
      SCENARIO_API_URL: simulator.url,
      SCENARIO_SDK_API_KEY: 'replica-test',
      SCENARIO_SDK_API_SECRET: 'replica-test',
      UPSTREAM_MAX_IN_FLIGHT: String(IN_FLIGHT_CAP),
      POLL_MIN_INTERVAL_MS: '200',
      POLL_MAX_INTERVAL_MS: '1000',
      MAX_ACTIVE_JOBS_PER_USER: '100',
      GENERATE_RATE_LIMIT_PER_MINUTE: '1000',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
    };
    // Started together: the migrations run once, under the database lock.
    replicas.push(
      ...(await Promise.all(
        [0, 1, 2].map((i) => startGateway({ env: { ...env, INSTANCE_ID: `replica-${i}`, MEDIA_DIR: join(mediaDir, `replica-${i}`) }, core: null })),
      )),
    );
    reader = await openStore(database.url, { instanceId: 'test-reader' });
    token = (await createTokenFor(reader, 'alice')).token;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await Promise.all(replicas.map((replica) => replica.child.stop('SIGTERM')));
    await simulator?.child.stop('SIGTERM');
    await s3?.stop();
    await reader?.close();
    await database?.drop();
    rmSync(mediaDir, { recursive: true, force: true });
  }, 60_000);

  function wsClient(replica: number): Client {
    const client = createClient({
      url: `${replicas[replica]!.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
    });
    clients.push(client);
    return client;
  }

  it('serves any client from any replica, takes over the jobs of a replica SIGKILLed mid-step, and never pays twice', async () => {
    const upstream = new RemoteSimulator(simulator.url);
    await upstream.hang('getAsset', { count: 1 });
    // Every replica follows all of alice's jobs, whichever replica changes them.
    const ownerFeeds = [0, 1, 2].map((replica) => {
      const seen = new Map<string, string[]>();
      wsClient(replica).subscribe<{ videoJobsUpdated: { id: string; status: string } }>(
        { query: OWNER_UPDATES },
        {
          next: ({ data }) => {
            if (!data) return;
            const { id, status } = data.videoJobsUpdated;
            seen.set(id, [...(seen.get(id) ?? []), status]);
          },
          error: () => {},
          complete: () => {},
        },
      );
      return { replica, seen };
    });
    await new Promise((r) => setTimeout(r, 500));

    const followers: Follower[] = [];
    for (let i = 0; i < JOBS; i++) {
      const created = await gql(
        replicas[i % 3]!.url,
        token,
        'mutation($input: GenerateVideoInput!) { generateVideo(input: $input) { __typename ... on GenerateVideoSuccess { job { id } } } }',
        { input: { prompt: `replica job ${i}`, seed: i + 1 } },
      );
      expect(created.generateVideo.__typename).toBe('GenerateVideoSuccess');
      const follower: Follower = { replica: (i + 1) % 3, jobId: created.generateVideo.job.id, messages: [], completed: false };
      wsClient(follower.replica).subscribe<{ jobUpdated: { version: number; status: string } }>(
        { query: JOB_UPDATED, variables: { id: follower.jobId } },
        {
          next: ({ data }) => data && follower.messages.push(data.jobUpdated),
          error: () => {},
          complete: () => (follower.completed = true),
        },
      );
      followers.push(follower);
    }

    // The replica storing the first finished job hangs on its asset read, renewing the lease as it waits.
    const stuck = await waitFor(
      async () => (await reader.listUnfinishedJobs()).find((job) => job.phase === 'mirroring' && job.leaseOwner !== null) ?? null,
      60_000,
      'a replica to hang while storing a job',
    );
    const KILLED = Number(stuck.leaseOwner!.replace('replica-', ''));
    replicas[KILLED]!.child.signal('SIGKILL');
    await replicas[KILLED]!.child.exited;
    const killedAt = Date.now();
    await waitFor(async () => (await reader.getJob(stuck.id))?.status === 'SUCCEEDED', TAKEOVER_GOAL_MS + 5_000, 'the stuck job to be taken over');
    expect(Date.now() - killedAt).toBeLessThan(TAKEOVER_GOAL_MS);

    const survivor = replicas[(KILLED + 1) % 3]!.url;
    const jobs = await waitFor(
      async () => {
        const data = await gql(survivor, token, '{ videoJobs(first: 100) { edges { node { id status events { seq } } } } }');
        const nodes = data.videoJobs.edges.map((edge: any) => edge.node);
        return nodes.length === JOBS && nodes.every((job: any) => job.status === 'SUCCEEDED') ? nodes : null;
      },
      90_000,
      'every job to succeed',
    );
    for (const job of jobs) expect(job.events.map((e: any) => e.seq)).toEqual(job.events.map((_: unknown, i: number) => i + 1));

    const stats = await upstream.stats();
    expect(stats.submits).toBe(JOBS);
    expect(stats.duplicateInputs).toEqual([]);
    expect(stats.maxConcurrentJobs).toBeLessThanOrEqual(IN_FLIGHT_CAP);

    const surviving = followers.filter((follower) => follower.replica !== KILLED);
    await waitFor(async () => surviving.every((follower) => follower.completed), 15_000, 'every surviving subscription to complete');
    for (const follower of surviving) {
      const versions = follower.messages.map((message) => message.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
      expect(follower.messages.at(-1)!.status).toBe('SUCCEEDED');
    }
    // Every video from every surviving replica, though none of them has it in its media directory.
    for (const replica of [0, 1, 2].filter((i) => i !== KILLED)) {
      const data = await gql(replicas[replica]!.url, token, '{ videoJobs(first: 100) { edges { node { videos { url byteSize } } } } }');
      for (const { node } of data.videoJobs.edges) {
        const [video] = node.videos;
        expect(new URL(video.url).origin).toBe(replicas[replica]!.url);
        const res = await fetch(video.url, { headers: { range: 'bytes=0-15' } });
        expect([replica, res.status]).toEqual([replica, 206]);
        expect((await res.arrayBuffer()).byteLength).toBe(16);
      }
    }
    for (const feed of ownerFeeds.filter((feed) => feed.replica !== KILLED)) {
      await waitFor(
        async () => followers.every((follower) => feed.seen.get(follower.jobId)?.includes('SUCCEEDED')),
        15_000,
        `replica ${feed.replica}'s videoJobsUpdated to see every job succeed`,
      );
    }
  }, 150_000);
});

describe.skipIf(!hasPostgres)('one PostgreSQL database without REDIS_URL', () => {
  it('lets a second replica start only with REDIS_URL on every replica, refusing with one line', async () => {
    const database = await createTestDatabase();
    const mediaDir = mkdtempSync(join(tmpdir(), 'alone-media-'));
    const env = { DATABASE_URL: database.url, MEDIA_DIR: mediaDir, PORT: '0', NODE_ENV: 'test', LOG_LEVEL: 'info' };
    const first = spawnNode('src/main.ts', [], { env });
    try {
      await first.waitForOutput(/"gateway listening"/, 60_000, 'the first replica');
      const refusals = [];
      for (const extra of [{}, { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: `${uniqueName('alone')}:` }]) {
        const second = spawnNode('src/main.ts', [], { env: { ...env, ...extra } });
        const { code } = await second.exited;
        refusals.push({ code, lines: second.stderr.trim().split('\n') });
      }
      for (const { code, lines } of refusals) {
        expect(code).toBe(1);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/REDIS_URL/);
      }
      expect(first.alive).toBe(true);
    } finally {
      await first.stop('SIGTERM');
      await database.drop();
      rmSync(mediaDir, { recursive: true, force: true });
    }
  }, 120_000);
});
