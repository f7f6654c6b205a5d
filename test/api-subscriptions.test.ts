// jobUpdated and videoJobsUpdated over graphql-ws and SSE against a whole gateway: order, completion, late
// subscribers, tenancy, filters, per-connection limits, authentication and listener hygiene.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/schema/global-id.ts';
import { Gateway, record, sse, waitFor } from './helpers/api-harness.ts';

const JOB_UPDATED = `subscription($id: ID!) { jobUpdated(id: $id) {
  id version status progress videos { id url } events { seq status }
} }`;
const JOBS_UPDATED = `subscription($filter: VideoJobFilter) { videoJobsUpdated(filter: $filter) { id version status prompt } }`;

let gw: Gateway;

beforeAll(async () => {
  gw = await Gateway.start({ MAX_ACTIVE_JOBS_PER_USER: '50', GENERATE_RATE_LIMIT_PER_MINUTE: '1000' });
});
afterAll(async () => {
  await gw?.stop();
});

function expectStrictlyIncreasing(versions: number[]) {
  for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1]!);
}

describe('jobUpdated', () => {
  it('over graphql-ws: the job as it is now, then every change in version order, then completion', async () => {
    const { job } = await gw.generate({ prompt: 'a lighthouse at night' });
    const client = await gw.ws('alice');
    const sub = record(client, JOB_UPDATED, { id: job.id });
    expect(await sub.done).toEqual({ completed: true });

    const messages = sub.messages.map((m) => m.data!.jobUpdated);
    expect(sub.messages.every((m) => m.errors === undefined)).toBe(true);
    expect(messages[0]!.id).toBe(job.id);
    expectStrictlyIncreasing(messages.map((m: any) => m.version));
    expect(messages.map((m: any) => m.status)).toContain('SUCCEEDED');
    const last = messages.at(-1)!;
    expect(last.status).toBe('SUCCEEDED');
    expect(messages.filter((m: any) => ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(m.status))).toHaveLength(1);
    // Nested data is read afresh for every message, not from the first message's loaders.
    const now = await gw.job(job.id, 'alice', 'version events { seq status } videos { id }');
    expect(last.version).toBe(now.version);
    expect(last.events).toEqual(now.events);
    expect(last.videos.map((v: any) => v.id)).toEqual(now.videos.map((v: any) => v.id));
    expect(last.videos).toHaveLength(1);
  });

  it('gives a late subscriber the final state once, then completes', async () => {
    const { job } = await gw.generate({ prompt: 'finished before anyone listens' });
    const done = await gw.waitForStatus(job.id, ['SUCCEEDED']);
    const sub = record(await gw.ws('alice'), JOB_UPDATED, { id: job.id });
    expect(await sub.done).toEqual({ completed: true });
    expect(sub.messages).toHaveLength(1);
    expect(sub.messages[0]!.data!.jobUpdated).toMatchObject({ id: job.id, status: 'SUCCEEDED', version: done.version });

    const overSse = await sse(gw.url, (await gw.login('alice')).token, JOB_UPDATED, { id: job.id });
    expect(overSse.events.map((e) => e.event)).toEqual(['next', 'complete']);
    expect(overSse.events[0]!.data.data.jobUpdated.status).toBe('SUCCEEDED');
  });

  it("answers NOT_FOUND for another user's job, an unknown id and a malformed id, over both transports", async () => {
    const { job } = await gw.generate({ prompt: 'only for alice' });
    const bob = await gw.ws('bob');
    for (const id of [job.id, toGlobalId('VideoJob', '00000000-0000-0000-0000-000000000000'), 'nope']) {
      const sub = record(bob, JOB_UPDATED, { id });
      await sub.done;
      expect(sub.messages).toHaveLength(1);
      expect(sub.messages[0]!.data ?? null).toBeNull();
      expect(sub.messages[0]!.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    const overSse = await sse(gw.url, (await gw.login('bob')).token, JOB_UPDATED, { id: job.id });
    expect(overSse.events[0]!.data.errors[0].extensions.code).toBe('NOT_FOUND');
    expect(overSse.events.at(-1)!.event).toBe('complete');
    // The same message as for an id that never existed.
    const unknown = await sse(gw.url, (await gw.login('bob')).token, JOB_UPDATED, { id: toGlobalId('VideoJob', 'x') });
    expect(unknown.events[0]!.data.errors[0].message).toBe(overSse.events[0]!.data.errors[0].message);
  });

  it('over SSE: the same ordered stream, ending with complete', async () => {
    const { job } = await gw.generate({ prompt: 'streamed over SSE' });
    const { status, events } = await sse(gw.url, (await gw.login('alice')).token, JOB_UPDATED, { id: job.id });
    expect(status).toBe(200);
    expect(events.at(-1)!.event).toBe('complete');
    const messages = events.filter((e) => e.event === 'next').map((e) => e.data.data.jobUpdated);
    expect(messages[0].id).toBe(job.id);
    expectStrictlyIncreasing(messages.map((m) => m.version));
    expect(messages.at(-1).status).toBe('SUCCEEDED');
  });

  it('serves many subscribers of one job without listener warnings, and releases every listener', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const baseline = gw.running.bus.listenerCount();
      await gw.fault({ type: 'respond', route: 'submit', status: 429, count: 1000 });
      const { job } = await gw.generate({ prompt: 'popular job' });
      const subs = [];
      for (let c = 0; c < 3; c++) {
        const client = await gw.ws('alice');
        for (let i = 0; i < 20; i++) subs.push(record(client, JOB_UPDATED, { id: job.id }));
      }
      await waitFor(() => gw.running.bus.listenerCount() >= baseline + 60, 10_000, '60 listeners');
      await gw.resetFaults();
      const results = await Promise.all(subs.map((s) => s.done));
      expect(results.every((r) => r.completed)).toBe(true);
      const finalVersions = new Set(subs.map((s) => s.messages.at(-1)!.data!.jobUpdated.version));
      expect(finalVersions.size).toBe(1);
      await waitFor(() => gw.running.bus.listenerCount() === baseline, 5_000, 'listeners released');
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await gw.resetFaults();
    }
  });

  it('releases the bus listener when the client leaves early', async () => {
    await gw.fault({ type: 'respond', route: 'submit', status: 429, count: 1000 });
    try {
      const baseline = gw.running.bus.listenerCount();
      const { job } = await gw.generate({ prompt: 'left early' });
      const client = await gw.ws('alice');
      const sub = record(client, JOB_UPDATED, { id: job.id });
      await waitFor(() => sub.messages.length > 0, 5_000, 'first message');
      expect(gw.running.bus.listenerCount()).toBe(baseline + 1);
      sub.unsubscribe();
      await waitFor(() => gw.running.bus.listenerCount() === baseline, 5_000, 'listener released');
    } finally {
      await gw.resetFaults();
    }
  });
});

describe('videoJobsUpdated', () => {
  it("streams only the viewer's own jobs", async () => {
    const baseline = gw.running.bus.listenerCount();
    const alice = record(await gw.ws('iso-alice'), JOBS_UPDATED, {});
    const bob = record(await gw.ws('iso-bob'), JOBS_UPDATED, {});
    await waitFor(() => gw.running.bus.listenerCount() >= baseline + 2, 5_000, 'subscriptions');
    const a = (await gw.generate({ prompt: 'alice isolation' }, 'iso-alice')).job;
    const b = (await gw.generate({ prompt: 'bob isolation' }, 'iso-bob')).job;
    await gw.waitForStatus(a.id, ['SUCCEEDED'], 'iso-alice');
    await gw.waitForStatus(b.id, ['SUCCEEDED'], 'iso-bob');
    await waitFor(() => alice.messages.some((m) => m.data?.videoJobsUpdated.status === 'SUCCEEDED'), 5_000, 'alice final');
    await waitFor(() => bob.messages.some((m) => m.data?.videoJobsUpdated.status === 'SUCCEEDED'), 5_000, 'bob final');
    expect([...new Set(alice.messages.map((m) => m.data!.videoJobsUpdated.id))]).toEqual([a.id]);
    expect([...new Set(bob.messages.map((m) => m.data!.videoJobsUpdated.id))]).toEqual([b.id]);
    expect(alice.messages[0]!.data!.videoJobsUpdated).toMatchObject({ status: 'PENDING', version: 1 });
    expectStrictlyIncreasing(alice.messages.map((m) => m.data!.videoJobsUpdated.version));
    alice.unsubscribe();
    bob.unsubscribe();
  });

  it('sends every change of a job that matches the filter before or after it', async () => {
    const client = await gw.ws('filterer');
    const pending = record(client, JOBS_UPDATED, { filter: { status: ['PENDING'] } });
    const succeeded = record(client, JOBS_UPDATED, { filter: { status: ['SUCCEEDED'] } });
    const searched = record(client, JOBS_UPDATED, { filter: { search: 'UNICORN' } });
    await new Promise((r) => setTimeout(r, 200));
    const match = (await gw.generate({ prompt: 'a unicorn runs' }, 'filterer')).job;
    const other = (await gw.generate({ prompt: 'a horse runs' }, 'filterer')).job;
    await gw.waitForStatus(match.id, ['SUCCEEDED'], 'filterer');
    await gw.waitForStatus(other.id, ['SUCCEEDED'], 'filterer');
    await waitFor(() => succeeded.messages.length >= 2, 5_000, 'both successes');
    await new Promise((r) => setTimeout(r, 200));

    const statuses = (rec: typeof pending, id: string) =>
      rec.messages.map((m) => m.data!.videoJobsUpdated).filter((j: any) => j.id === id).map((j: any) => j.status);
    for (const id of [match.id, other.id]) {
      const seen = statuses(pending, id);
      // PENDING while it matches, then the one change that made it leave, then nothing.
      expect(seen[0]).toBe('PENDING');
      expect(seen.filter((s) => s !== 'PENDING')).toHaveLength(1);
      expect(seen.at(-1)).not.toBe('PENDING');
      expect(statuses(succeeded, id)).toEqual(['SUCCEEDED']);
    }
    const searchedIds = new Set(searched.messages.map((m) => m.data!.videoJobsUpdated.id));
    expect([...searchedIds]).toEqual([match.id]);
    expect(statuses(searched, match.id).at(-1)).toBe('SUCCEEDED');
  });

  it('works over SSE too', async () => {
    const { token } = await gw.login('sse-user');
    const controller = new AbortController();
    const stream = sse(gw.url, token, JOBS_UPDATED, { filter: { status: ['SUCCEEDED'] } }, {
      until: (events) => events.some((e) => e.event === 'next'),
      signal: controller.signal,
    });
    await new Promise((r) => setTimeout(r, 200));
    const { job } = await gw.generate({ prompt: 'sse list' }, 'sse-user');
    const { events } = await stream;
    expect(events[0]!.data.data.videoJobsUpdated).toMatchObject({ id: job.id, status: 'SUCCEEDED' });
  });
});

describe('graphql-ws connections', () => {
  it('refuses the 21st operation of a connection with an error message and keeps the connection open', async () => {
    const client = await gw.ws('limiter');
    const subs = Array.from({ length: 20 }, () => record(client, JOBS_UPDATED, {}));
    await waitFor(() => gw.running.bus.listenerCount() >= 20, 5_000, '20 subscriptions');
    const extra = record(client, JOBS_UPDATED, {});
    const outcome = await extra.done;
    expect(outcome.completed).toBe(false);
    expect((outcome.error as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code).toBe('TOO_MANY_SUBSCRIPTIONS');
    // Still open: the others are alive, and once one ends another may start.
    subs[0]!.unsubscribe();
    await new Promise((r) => setTimeout(r, 100));
    const query = record(client, '{ viewer { name } }');
    expect(await query.done).toEqual({ completed: true });
    expect(query.messages[0]!.data).toEqual({ viewer: { name: 'limiter' } });
    for (const s of subs) s.unsubscribe();
  });

  it('closes with 4403 without a valid token', async () => {
    for (const authorization of [undefined, 'Bearer vgt_not-a-real-token', 'Basic abc']) {
      const client = await gw.ws(null, authorization);
      const sub = record(client, '{ viewer { name } }');
      const outcome = await sub.done;
      expect(outcome.completed).toBe(false);
      expect((outcome.error as { code: number }).code).toBe(4403);
    }
  });

  it('runs queries and mutations too, with the same masking and result unions', async () => {
    const client = await gw.ws('alice');
    const mutation = record(client, `mutation { generateVideo(input: { prompt: "" }) { __typename ... on Error { code } } }`);
    await mutation.done;
    expect(mutation.messages[0]!.data).toEqual({ generateVideo: { __typename: 'ValidationError', code: 'VALIDATION_FAILED' } });
  });
});
