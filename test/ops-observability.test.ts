// Operations: /healthz, /readyz (503 once the database is gone), /metrics in Prometheus text, JSON request logs
// with request id, user, operation and duration, keep-alive pings, and masked errors with details in the log only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactUrl } from '../src/http/traffic.ts';
import { scrubSecrets } from '../src/log.ts';
import { METRIC_NAMES } from '../src/metrics/metrics.ts';
import { record, sse, waitFor } from './helpers/api-harness.ts';
import { CapturedGateway, sample } from './helpers/hardening-app.ts';
import { ackedWs, rawWs, within } from './helpers/hardening-clients.ts';

let gw: CapturedGateway;

beforeAll(async () => {
  gw = await CapturedGateway.start({}, { keepAliveMs: 200 });
});
afterAll(async () => {
  await gw?.stop();
});

async function generate(prompt: string, as = 'alice'): Promise<string> {
  const data = await gw.data(
    `mutation Generate($input: GenerateVideoInput!) { generateVideo(input: $input) { __typename ... on GenerateVideoSuccess { job { id } } } }`,
    { input: { prompt } },
    as,
  );
  return data.generateVideo.job.id;
}

async function waitForStatus(id: string, status: string, as = 'alice'): Promise<void> {
  await waitFor(async () => (await gw.data('query($id: ID!) { videoJob(id: $id) { status } }', { id }, as)).videoJob?.status === status, 30_000, `job ${status}`);
}

describe('health', () => {
  it('answers /healthz and /readyz with 200, and other methods with 405', async () => {
    expect(await (await fetch(`${gw.url}/healthz`)).text()).toBe('ok\n');
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${gw.url}/healthz`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${gw.url}/nothing-here`)).status).toBe(404);
  });
});

describe('metrics', () => {
  it('exposes jobs by status, upstream requests and latency, poll lag, mirror bytes, subscriptions, sockets and HTTP latency', async () => {
    const id = await generate('counted');
    await waitForStatus(id, 'SUCCEEDED');
    const { token } = await gw.login('alice');
    const ws = await gw.ws('alice');
    const live = record(ws, 'subscription { videoJobsUpdated { id } }');
    const stop = new AbortController();
    const stream = sse(gw.url, token, 'subscription { videoJobsUpdated { id } }', {}, { signal: stop.signal });
    await waitFor(() => gw.running.bus.listenerCount() >= 2, 10_000, 'two live subscriptions');

    const res = await fetch(`${gw.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const name of Object.values(METRIC_NAMES)) expect(text).toContain(`# TYPE ${name} `);

    expect(sample(text, METRIC_NAMES.jobs, { status: 'SUCCEEDED' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, METRIC_NAMES.jobs, { status: 'CANCELED' })).toBe(0);
    expect(sample(text, METRIC_NAMES.upstreamRequests, { route: 'submit', outcome: '2xx' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, `${METRIC_NAMES.upstreamDuration}_count`, { route: 'getAsset', outcome: '2xx' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, `${METRIC_NAMES.pollLag}_count`)).toBeGreaterThanOrEqual(1);
    expect(sample(text, METRIC_NAMES.mirrorBytes, { kind: 'video' })).toBeGreaterThan(1000);
    expect(sample(text, METRIC_NAMES.subscriptions)).toBeGreaterThanOrEqual(2);
    expect(sample(text, METRIC_NAMES.webSockets)).toBe(1);
    expect(sample(text, METRIC_NAMES.inFlight)).toBeGreaterThanOrEqual(2); // this scrape and the SSE stream
    expect(sample(text, `${METRIC_NAMES.httpDuration}_count`, { route: 'graphql', operation_type: 'mutation', status_code: '200' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, `${METRIC_NAMES.httpDuration}_count`, { route: 'graphql', operation_type: 'query', status_code: '200' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // CONTRACT §9: the replicas beating in the database (this one), leases held now, and Redis (off without REDIS_URL).
    expect(sample(text, METRIC_NAMES.liveReplicas)).toBe(1);
    expect(sample(text, METRIC_NAMES.leases)).toBeGreaterThanOrEqual(0);
    expect(sample(text, METRIC_NAMES.redis, { state: 'off' })).toBe(1);
    expect(sample(text, METRIC_NAMES.redis, { state: 'ready' })).toBe(0);
    expect(sample(text, METRIC_NAMES.instance, { instance_id: gw.config.instanceId })).toBe(1);
    // Labels never carry ids, paths or tokens.
    expect(text).not.toContain(id);
    expect(text).not.toContain(token);

    live.unsubscribe();
    stop.abort();
    await within(stream, 10_000, 'SSE stream end');
  });
});

describe('logs', () => {
  it('writes one JSON line per request with request id, user id, operation name and type, status and duration', async () => {
    const { user, token } = await gw.login('logger');
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': 'req-test-1' },
      body: JSON.stringify({ query: 'query WhoAmI { viewer { name } }' }),
    });
    expect(res.headers.get('x-request-id')).toBe('req-test-1');
    await res.json();
    const generated = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation Make { generateVideo(input: { prompt: "logged" }) { __typename } }' }),
    });
    const generatedId = generated.headers.get('x-request-id')!;
    expect(generatedId).toMatch(/^[0-9a-f-]{36}$/);
    await generated.json();

    const line = await waitFor(() => gw.logs().find((l) => l.msg === 'request' && l.reqId === 'req-test-1'), 5_000, 'request log');
    expect(line).toMatchObject({
      level: 30,
      method: 'POST',
      url: '/graphql',
      status: 200,
      userId: user.id,
      operationName: 'WhoAmI',
      operationType: 'query',
      component: 'http',
    });
    expect(typeof line.durationMs).toBe('number');
    expect(typeof line.time).toBe('number');
    // A line written while the request ran carries the same request id and user.
    const accepted = await waitFor(() => gw.logs().find((l) => l.msg === 'job accepted' && l.reqId === generatedId), 5_000, 'job log');
    expect(accepted).toMatchObject({ userId: user.id, operationName: 'Make', operationType: 'mutation' });
  });

  it('redacts a token or signature in the query string of request logs', async () => {
    const { token } = await gw.login('alice');
    await (await fetch(`${gw.url}/?token=${token}&view=history`)).text();
    await (await fetch(`${gw.url}/media/videos/x/0.mp4?exp=1&sig=abcdef0123456789`)).text();
    const lines = await waitFor(() => {
      const found = gw.logs().filter((l) => l.msg === 'request' && /token=|sig=/.test(l.url ?? ''));
      return found.length >= 2 ? found : null;
    }, 5_000, 'request logs');
    expect(lines.map((l) => l.url)).toEqual(
      expect.arrayContaining(['/?token=[redacted]&view=history', '/media/videos/x/0.mp4?exp=1&sig=[redacted]']),
    );
    expect(gw.logLines.join('')).not.toContain(token);
  });

  it('keeps secrets out of lines by path and by value', () => {
    expect(redactUrl('/graphql?query=%7B%7D&TOKEN=abc&sig=1')).toBe('/graphql?query=%7B%7D&TOKEN=[redacted]&sig=[redacted]');
    expect(redactUrl('/healthz')).toBe('/healthz');
    expect(scrubSecrets('{"msg":"key s3cr3t-value in vgt_abcdefghijklmnopqrstuvwxyz"}', ['s3cr3t-value'])).toBe(
      '{"msg":"key [redacted] in vgt_[redacted]"}',
    );
  });
});

describe('graphql-ws keep-alive', () => {
  it('pings idle connections', async () => {
    const { token } = await gw.login('alice');
    const ws = await ackedWs(gw.wsUrl, token);
    await within(new Promise((resolve) => ws.socket.once('ping', resolve)), 10_000, 'keep-alive ping');
    ws.close();
    await within(ws.closed, 10_000, 'close');
  });
});

describe('when the database is gone', () => {
  it('answers /readyz with 503, masks the failure of an operation, logs its details, and keeps /healthz and /metrics up', async () => {
    const { token } = await gw.login('alice');
    const reqId = 'req-db-gone';
    const ws = await ackedWs(gw.wsUrl, token); // connected while the database answered
    await gw.running.store.close();
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(200);

    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': reqId },
      body: JSON.stringify({ query: '{ viewer { name } }' }),
    });
    const body = await res.json();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(body)).not.toMatch(/database|sqlite|connection/i);
    // The details are in the log, on a line of that request.
    const detail = await waitFor(() => gw.logs().find((l) => l.reqId === reqId && l.level >= 50 && l.err), 5_000, 'error log');
    expect(JSON.stringify(detail.err)).toMatch(/database|connection/i);

    // Over graphql-ws too: an operation that cannot start gets a generic error, a new connection a generic close.
    ws.send({ id: 'x', type: 'subscribe', payload: { query: '{ viewer { name } }' } });
    const refused = await ws.next((m) => m.id === 'x' && m.type === 'error');
    expect(refused.payload).toEqual([{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    const late = await rawWs(gw.wsUrl);
    late.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    const closed = await within(late.closed, 10_000, 'close');
    expect(closed).toEqual({ code: 4500, reason: 'Internal server error' });
    ws.close();
  });
});
