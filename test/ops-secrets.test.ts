// A full run with real Scenario credentials (against a simulator started here, so the key and secret are really
// sent), in production mode and at the most verbose log level: every log line and every response (bodies and
// headers, HTTP, SSE and graphql-ws) is captured, and none contains the Scenario key or secret, the media signing
// secret, or any API token.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../src/simulator/server.ts';
import { sse, waitFor } from './helpers/api-harness.ts';
import { fixture, UPLOAD_AUDIO } from './helpers/api-upload.ts';
import { CapturedGateway } from './helpers/hardening-app.ts';
import { ackedWs, rawWs, within } from './helpers/hardening-clients.ts';
import { OVER_LIMIT } from './helpers/hardening-operations.ts';

const API_KEY = `key_${randomBytes(12).toString('hex')}`;
const API_SECRET = `secret_${randomBytes(16).toString('hex')}`;
const SIGNING_SECRET = `signing_${randomBytes(24).toString('hex')}`;
const REDIS_PASSWORD = `redis_${randomBytes(12).toString('hex')}`;

let sim: Simulator;
let gw: CapturedGateway;
/** Everything a client received: status lines, headers and bodies. */
const received: string[] = [];

beforeAll(async () => {
  sim = createSimulator({ jobSeconds: 0.5, uploadImportMs: 50 });
  await sim.start();
  gw = await CapturedGateway.start({
    NODE_ENV: 'production',
    LOG_LEVEL: 'trace',
    SCENARIO_API_URL: sim.url,
    SCENARIO_SDK_API_KEY: API_KEY,
    SCENARIO_SDK_API_SECRET: API_SECRET,
    MEDIA_SIGNING_SECRET: SIGNING_SECRET,
    // Nothing listens there: the connection errors are logged, and must not carry the password.
    REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:1`,
  });
});
afterAll(async () => {
  await gw?.stop();
  await sim?.stop();
});

/** fetch, keeping the whole response. */
async function call(path: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gw.url}${path}`, init);
  const buffer = Buffer.from(await res.arrayBuffer());
  const isText = /json|text|html|javascript/.test(res.headers.get('content-type') ?? '');
  const text = isText ? buffer.toString('utf8') : buffer.toString('latin1');
  received.push(`${res.status} ${JSON.stringify([...res.headers])}\n${text}`);
  return { status: res.status, text };
}

async function gql(token: string, query: string, variables: Record<string, unknown> = {}, extraHeaders: Record<string, string> = {}) {
  const res = await call('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...extraHeaders },
    body: JSON.stringify({ query, variables }),
  });
  return JSON.parse(res.text);
}

describe('secrets', () => {
  it('never appear in logs or responses over a full run', { timeout: 90_000 }, async () => {
    const alice = await gw.login('alice');
    const bob = await gw.login('bob');
    const revoked = await gw.login('gone');
    await gw.running.store.revokeTokens(revoked.user.id);
    const bootstrap = gw.running.bootstrapToken!;
    expect(bootstrap).toMatch(/^vgt_/);
    const tokens = [alice.token, bob.token, revoked.token, bootstrap];

    // The studio link, with the token where the first-start message puts it, and a mistaken token in a GraphQL URL.
    await call(`/?token=${encodeURIComponent(bootstrap)}`);
    await call(`/graphql?token=${alice.token}&query=${encodeURIComponent('{ viewer { name } }')}`, { headers: { 'x-graphql-yoga-csrf': '1' } });

    // Live updates over graphql-ws (raw, to keep every frame) and SSE while a job runs to the end.
    const ws = await ackedWs(gw.wsUrl, alice.token);
    ws.send({ id: 'all', type: 'subscribe', payload: { query: 'subscription { videoJobsUpdated { id status progress } }' } });
    const created = await gql(alice.token, `mutation { generateVideo(input: { prompt: "a lighthouse at dusk" }) { __typename ... on GenerateVideoSuccess { job { id } } } }`);
    const jobId = created.data.generateVideo.job.id as string;
    const overSse = sse(gw.url, alice.token, `subscription($id: ID!) { jobUpdated(id: $id) { id status videos { url } } }`, { id: jobId });
    await waitFor(async () => (await gql(alice.token, 'query($id: ID!) { videoJob(id: $id) { status } }', { id: jobId })).data.videoJob.status === 'SUCCEEDED', 30_000, 'job done');
    const sseResult = await within(overSse, 15_000, 'SSE');
    received.push(JSON.stringify(sseResult.events));
    const job = await gql(alice.token, 'query($id: ID!) { videoJob(id: $id) { videos { url thumbnailUrl } events { seq message } } }', { id: jobId });
    const media = await call(new URL(job.data.videoJob.videos[0].url).pathname + new URL(job.data.videoJob.videos[0].url).search, { headers: { range: 'bytes=0-99' } });
    expect(media.status).toBe(206);

    // An upload (Scenario's multipart upload flow), upstream failures while polling, and a refused submit (last: it
    // blocks new jobs until Scenario accepts a request again).
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: UPLOAD_AUDIO, variables: { file: null } }));
    form.set('map', JSON.stringify({ 0: ['variables.file'] }));
    form.set('0', new Blob([new Uint8Array(fixture('tone-4s.wav'))]), 'tone.wav');
    const uploaded = await call('/graphql', { method: 'POST', headers: { authorization: `Bearer ${bob.token}`, 'x-graphql-yoga-csrf': '1' }, body: form });
    expect(JSON.parse(uploaded.text).data.uploadAudio.__typename).toBe('UploadAudioSuccess');
    sim.faults.add('getJob', { type: 'respond', status: 500 }, 2);
    sim.faults.add('listJobs', { type: 'respond', status: 500 }, 2);
    const polled = await gql(bob.token, `mutation { generateVideo(input: { prompt: "polled through errors" }) { __typename ... on GenerateVideoSuccess { job { id } } ... on Error { code } } }`);
    const polledId = polled.data.generateVideo.job?.id as string;
    expect(polledId).toBeDefined();
    {
      await waitFor(async () => ['SUCCEEDED', 'FAILED'].includes((await gql(bob.token, 'query($id: ID!) { videoJob(id: $id) { status } }', { id: polledId })).data.videoJob.status), 30_000, 'job polled');
    }

    sim.faults.add('submit', { type: 'respond', status: 401, body: { reason: 'Invalid credentials' } });
    const refused = await gql(bob.token, `mutation { generateVideo(input: { prompt: "refused upstream" }) { __typename ... on GenerateVideoSuccess { job { id } } } }`);
    const refusedId = refused.data.generateVideo.job.id as string;
    await waitFor(async () => (await gql(bob.token, 'query($id: ID!) { videoJob(id: $id) { status error { code message } } }', { id: refusedId })).data.videoJob.status === 'FAILED', 30_000, 'job refused');
    // Refusals: bad and revoked tokens, over-limit operations, CSRF, oversized and malformed bodies, a foreign id.
    for (const token of [revoked.token, 'vgt_not_a_real_token_at_all_0000000000000', `${alice.token}x`]) await gql(token, '{ viewer { name } }');
    for (const { query } of OVER_LIMIT) await gql(alice.token, query);
    await call(`/graphql?query=${encodeURIComponent('{ viewer { name } }')}`, { headers: { authorization: `Bearer ${alice.token}` } });
    await call('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` }, body: '{"query": ' });
    await gql(bob.token, 'query($id: ID!) { videoJob(id: $id) { id } node(id: $id) { id } }', { id: jobId });
    const badWs = await rawWs(gw.wsUrl);
    badWs.send({ type: 'connection_init', payload: { authorization: `Bearer ${revoked.token}` } });
    received.push(JSON.stringify(await within(badWs.closed, 10_000, 'ws refused')));

    // Operator endpoints.
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await call(path)).status).toBe(200);

    ws.close();
    received.push(JSON.stringify(await within(ws.closed, 10_000, 'ws closed')), JSON.stringify(ws.messages), JSON.stringify(badWs.messages));

    // The credentials were really used: the simulator answered the gateway's authenticated requests.
    expect(sim.stats.submits).toBeGreaterThanOrEqual(2);
    expect(sim.stats.requests.uploadCreate).toBeDefined();

    const logs = gw.logLines.join('');
    const responses = received.join('\n');
    // The run did produce what is searched: request logs, engine logs, the upstream refusal, masked and refused operations.
    expect(logs).toContain('"msg":"request"');
    expect(logs).toContain('job accepted');
    expect(logs).toContain('submit rejected upstream');
    expect(logs).toMatch(/poll failed|job list failed/);
    expect(logs).toContain('Redis connection failed');
    expect(responses).toContain('UNAUTHENTICATED');
    expect(responses).toContain('jobUpdated');
    const forbidden = [
      API_KEY,
      API_SECRET,
      SIGNING_SECRET,
      REDIS_PASSWORD,
      Buffer.from(`${API_KEY}:${API_SECRET}`).toString('base64'),
      ...tokens,
    ];
    for (const secret of forbidden) {
      expect(logs.includes(secret), `log contains ${secret.slice(0, 8)}…`).toBe(false);
      expect(responses.includes(secret), `a response contains ${secret.slice(0, 8)}…`).toBe(false);
    }
  });
});
