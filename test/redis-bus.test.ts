// RedisJobEventBus against the machine's Redis: two buses on one Redis stand for two replicas.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobUpdate } from '../src/events/job-event-bus.ts';
import type { RedisLog } from '../src/redis/connection.ts';
import { RedisJobEventBus, type LostInterval } from '../src/redis/job-event-bus.ts';
import { hasRedis, TEST_REDIS_URL, uniqueName } from './helpers/services.ts';

function update(id: string, ownerId: string, version = 1): JobUpdate {
  return {
    id,
    ownerId,
    version,
    status: 'QUEUED',
    phase: 'waiting',
    upstreamStatus: null,
    upstreamJobId: null,
    progress: 0,
    queuePosition: 1,
    idempotencyKey: null,
    error: null,
    creativeUnitsCost: null,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    submittedAt: null,
    completedAt: null,
    prompt: 'A red fox runs through snow',
    negativePrompt: null,
    size: 'LANDSCAPE_720P',
    durationSeconds: 5,
    enablePromptExpansion: false,
    seed: 42,
    seedDrawn: false,
    audioId: null,
  };
}

function captureLog() {
  const lines: Array<{ level: string; fields: object; message: string }> = [];
  const at = (level: string) => (fields: object, message: string) => void lines.push({ level, fields, message });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') } satisfies RedisLog & { lines: unknown[] };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** What a listener received, by job id and version. */
function recorder() {
  const got: JobUpdate[] = [];
  const listener = (job: JobUpdate) => void got.push(job);
  return { got, listener, versions: (jobId: string) => got.filter((j) => j.id === jobId).map((j) => j.version) };
}

describe.skipIf(!hasRedis)('RedisJobEventBus', () => {
  const keyPrefix = `${uniqueName('bus')}:`;
  const buses: RedisJobEventBus[] = [];
  let admin: Redis;

  function newBus(overrides: Partial<ConstructorParameters<typeof RedisJobEventBus>[0]> = {}) {
    const log = captureLog();
    const resyncCalls: LostInterval[] = [];
    const instanceId = overrides.instanceId ?? uniqueName('replica');
    const bus = new RedisJobEventBus({
      url: TEST_REDIS_URL,
      keyPrefix,
      instanceId,
      log,
      resync: async (lost) => {
        resyncCalls.push(lost);
        return [];
      },
      ...overrides,
    });
    buses.push(bus);
    return { bus, log, resyncCalls, instanceId };
  }

  /** Drops one bus's subscriber (or publisher) connection from the server side, as a Redis restart or network cut would. */
  async function killSubscriber(instanceId: string, connection: 'bus-sub' | 'bus-pub' = 'bus-sub'): Promise<void> {
    const clients = (connection === 'bus-sub' ? await admin.client('LIST', 'TYPE', 'PUBSUB') : await admin.client('LIST', 'TYPE', 'NORMAL')) as string;
    const line = clients.split('\n').find((l) => l.includes(` name=${connection}:${instanceId} `));
    expect(line, `${connection} of ${instanceId} in CLIENT LIST`).toBeDefined();
    // By id, not by type: other buses (and other test files) keep their connections.
    expect(await admin.client('KILL', 'ID', /^id=(\d+)/.exec(line!)![1]!)).toBe(1);
  }

  beforeAll(() => {
    admin = new Redis(TEST_REDIS_URL);
  });

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  afterAll(async () => {
    // The bus keeps no keys; this checks that it did not leave any.
    expect(await admin.keys(`${keyPrefix}*`)).toEqual([]);
    await admin.quit();
  });

  it('carries a change to the other replica once and delivers it on the publisher exactly once', async () => {
    const { bus: a } = newBus();
    const { bus: b } = newBus();
    const onA = recorder();
    const onBJob = recorder();
    const onBOwner = recorder();
    await a.subscribeToJob('job-1', onA.listener);
    await a.subscribeToJob('sentinel', onA.listener);
    await b.subscribeToJob('job-1', onBJob.listener);
    await b.subscribeToOwner('owner-1', onBOwner.listener);

    const published = a.publish(update('job-1', 'owner-1', 1));
    // Local delivery happens before the Redis round trip.
    expect(onA.versions('job-1')).toEqual([1]);
    await published;
    await waitFor(() => onBJob.got.length === 1 && onBOwner.got.length === 1, 'delivery on the other replica');
    expect(onBJob.got[0]).toEqual(update('job-1', 'owner-1', 1));

    // Redis delivers in order per connection: once a's subscriber sees b's later message, a's own echo has passed.
    await b.publish(update('sentinel', 'owner-2', 1));
    await waitFor(() => onA.versions('sentinel').length === 1, 'the sentinel on the publisher');
    expect(onA.versions('job-1')).toEqual([1]);
    expect(onBJob.versions('job-1')).toEqual([1]);
    expect(onBOwner.versions('job-1')).toEqual([1]);
  });

  it('resolves the first subscribe only once the subscription is live', async () => {
    const { bus: a } = newBus();
    const { bus: b } = newBus();
    const onB = recorder();
    // b was created just now: its SUBSCRIBE may still be on the wire when subscribeToJob is called.
    await b.subscribeToJob('job-live', onB.listener);
    await a.publish(update('job-live', 'owner-1', 1));
    await waitFor(() => onB.got.length === 1, 'a change published right after subscribe resolved');
    expect(b.connectionState()).toBe('ready');
  });

  it('keeps delivering to the other listeners when one throws', async () => {
    const { bus: a } = newBus();
    const errors: unknown[] = [];
    const { bus: b } = newBus({ onListenerError: (error) => errors.push(error) });
    const onB = recorder();
    await b.subscribeToJob('job-2', () => {
      throw new Error('listener broke');
    });
    await b.subscribeToJob('job-2', onB.listener);
    await a.publish(update('job-2', 'owner-1', 3));
    await waitFor(() => onB.got.length === 1, 'the healthy listener');
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('listener broke');
  });

  it('unsubscribes and counts listeners', async () => {
    const { bus: a } = newBus();
    const { bus: b } = newBus();
    const kept = recorder();
    const dropped = recorder();
    const stopKept = await b.subscribeToJob('job-3', kept.listener);
    const stopDropped = await b.subscribeToJob('job-3', dropped.listener);
    const stopOwner = await b.subscribeToOwner('owner-3', dropped.listener);
    expect(b.listenerCount()).toBe(3);

    stopDropped();
    stopDropped();
    stopOwner();
    expect(b.listenerCount()).toBe(1);
    await a.publish(update('job-3', 'owner-3', 1));
    await waitFor(() => kept.got.length === 1, 'the remaining listener');
    // A later message on the same connection: had the dropped listener been called, it would have been by now.
    await a.publish(update('job-3', 'owner-3', 2));
    await waitFor(() => kept.got.length === 2, 'the second change');
    expect(dropped.got).toEqual([]);

    stopKept();
    expect(b.listenerCount()).toBe(0);
  });

  it('drops an unreadable message and goes on', async () => {
    const { bus: a } = newBus();
    const { bus: b, log } = newBus();
    const onB = recorder();
    await b.subscribeToJob('job-4', onB.listener);
    await admin.publish(`${keyPrefix}jobs`, 'not json {');
    await admin.publish(`${keyPrefix}jobs`, JSON.stringify({ origin: 'elsewhere', job: { id: 42 } }));
    await a.publish(update('job-4', 'owner-1', 1));
    await waitFor(() => onB.got.length === 1, 'the valid change after the bad ones');
    expect(log.lines.filter((line) => line.message === 'dropped an unreadable job event')).toHaveLength(2);
  });

  it('resyncs what it listens to after its subscriber connection was lost, and is live again', async () => {
    const { bus: a } = newBus();
    const resyncCalls: LostInterval[] = [];
    const { bus: b, log, instanceId } = newBus({
      resync: async (lost) => {
        resyncCalls.push(lost);
        return [update('job-5', 'owner-5', 7), update('job-6', 'owner-5', 2)];
      },
    });
    const onJob = recorder();
    const onOwner = recorder();
    await b.subscribeToJob('job-5', onJob.listener);
    await b.subscribeToOwner('owner-5', onOwner.listener);

    const lostAfter = Date.now();
    await killSubscriber(instanceId);

    await waitFor(() => resyncCalls.length === 1, 'the resync after the reconnect');
    expect(resyncCalls[0]!.jobIds).toEqual(['job-5']);
    expect(resyncCalls[0]!.ownerIds).toEqual(['owner-5']);
    expect(resyncCalls[0]!.since).toBeGreaterThanOrEqual(lostAfter);
    expect(resyncCalls[0]!.since).toBeLessThanOrEqual(Date.now());
    await waitFor(() => onOwner.got.length === 2, 'the resynced updates');
    expect(onJob.versions('job-5')).toEqual([7]);
    expect(onOwner.got.map((j) => `${j.id}@${j.version}`)).toEqual(['job-5@7', 'job-6@2']);
    expect(log.lines.some((line) => line.message === 'job events resynced after a Redis outage')).toBe(true);

    await a.publish(update('job-5', 'owner-5', 8));
    await waitFor(() => onJob.versions('job-5').includes(8), 'a change after the reconnect');
    expect(b.connectionState()).toBe('ready');
  });

  it('has the other replicas resync what it could not publish, once its publisher is back', async () => {
    const { bus: a, instanceId: aId } = newBus();
    const { bus: b, resyncCalls } = newBus();
    const onB = recorder();
    await b.subscribeToJob('job-7', onB.listener);
    await a.publish(update('job-7', 'owner-7', 1));
    await waitFor(() => onB.versions('job-7').includes(1), 'the first change');

    // Only A's publisher goes: B stays connected, so its own reconnect would never trigger a resync.
    const failedAfter = Date.now();
    await killSubscriber(aId, 'bus-pub');
    await waitFor(() => a.connectionState() !== 'ready', "A's publisher to notice");
    await expect(a.publish(update('job-7', 'owner-7', 2))).rejects.toThrow();

    await waitFor(() => resyncCalls.length === 1, "B's resync once A's publisher is back", 8000);
    expect(resyncCalls[0]!.jobIds).toEqual(['job-7']);
    expect(resyncCalls[0]!.since).toBeGreaterThanOrEqual(failedAfter);
    expect(resyncCalls[0]!.since).toBeLessThanOrEqual(Date.now());
  });

  it('hears another process that was given the same INSTANCE_ID by mistake', async () => {
    const { bus: a } = newBus({ instanceId: 'same-name' });
    const { bus: b } = newBus({ instanceId: 'same-name' });
    const onB = recorder();
    await b.subscribeToJob('job-8', onB.listener);
    await a.publish(update('job-8', 'owner-8', 3));
    await waitFor(() => onB.versions('job-8').length === 1, 'the change from the namesake');
  });

  it('logs a failed resync and keeps running', async () => {
    const { bus: b, log, instanceId } = newBus({
      resync: async () => {
        throw new Error('database unavailable');
      },
    });
    await b.subscribeToJob('job-7', () => {});
    await killSubscriber(instanceId);
    await waitFor(() => log.lines.some((l) => l.message === 'job event resync failed'), 'the logged resync failure');
    await waitFor(() => b.connectionState() === 'ready', 'the reconnect');
  });

  it('keeps working locally when Redis cannot be reached', async () => {
    const { bus, log, resyncCalls } = newBus({ url: 'redis://:s3cret-password@127.0.0.1:1' });
    const local = recorder();

    let started = Date.now();
    await bus.subscribeToJob('job-8', local.listener);
    expect(Date.now() - started).toBeLessThan(1000);

    started = Date.now();
    await expect(bus.publish(update('job-8', 'owner-1', 1))).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(local.versions('job-8')).toEqual([1]);
    expect(bus.connectionState()).toBe('down');
    expect(resyncCalls).toEqual([]);

    const warnings = log.lines.filter((line) => line.level === 'warn');
    expect(warnings.length).toBeGreaterThan(0);
    expect(JSON.stringify(log.lines)).not.toContain('s3cret-password');

    started = Date.now();
    await bus.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
