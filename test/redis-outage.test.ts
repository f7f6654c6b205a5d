// Redis unreachable (CONTRACT §9): the gateway keeps answering. Jobs run, subscribers on the replica get every change
// (the bus delivers locally first), /readyz depends on the database only, and /metrics says Redis is down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../src/metrics/metrics.ts';
import { Gateway, JOB_FIELDS, record, waitFor } from './helpers/api-harness.ts';
import { sample } from './helpers/hardening-app.ts';

let gw: Gateway;
beforeAll(async () => {
  // Nothing listens on port 1: every connection attempt is refused at once.
  gw = await Gateway.start({ REDIS_URL: 'redis://127.0.0.1:1', GENERATE_RATE_LIMIT_PER_MINUTE: '2' });
});
afterAll(async () => {
  await gw?.stop();
});

describe('a gateway whose Redis is unreachable', () => {
  it('still runs jobs, delivers their changes to its subscribers, and reports Redis down', async () => {
    const created = await gw.generate({ prompt: 'while Redis is away' });
    expect(created.__typename).toBe('GenerateVideoSuccess');
    const ws = await gw.ws('alice');
    const live = record(ws, `subscription($id: ID!) { jobUpdated(id: $id) { ${JOB_FIELDS} } }`, { id: created.job.id });
    expect(await live.done).toEqual({ completed: true });
    expect(live.messages.at(-1)?.data?.jobUpdated.status).toBe('SUCCEEDED');

    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(sample(metrics, METRIC_NAMES.redis, { state: 'ready' })).toBe(0);
    expect(sample(metrics, METRIC_NAMES.redis, { state: 'off' })).toBe(0);
  });

  it('keeps the per-user generate limit in the process meanwhile', async () => {
    const results = [];
    for (let i = 0; i < 3; i++) results.push((await gw.generate({ prompt: `limited ${i}` }, 'bob')).__typename);
    expect(results).toEqual(['GenerateVideoSuccess', 'GenerateVideoSuccess', 'RateLimitedError']);
    await waitFor(async () => (await gw.data('{ videoJobs { totalCount } }', {}, 'bob')).videoJobs.totalCount === 2, 5_000, 'two jobs');
  });
});
