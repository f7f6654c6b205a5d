// A hostile client against a whole running gateway (buildApp in production mode: real HTTP and WebSockets on
// 127.0.0.1, port 0). Each attack is refused with the right error; afterwards the server is still healthy and a
// normal query still answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNAUTHENTICATED_MESSAGE } from '../src/http/request-guards.ts';
import { Gateway, record } from './helpers/api-harness.ts';
import { fixture, UPLOAD_AUDIO } from './helpers/api-upload.ts';
import { ackedWs, rawPost, rawWs, within } from './helpers/hardening-clients.ts';
import { OVER_LIMIT } from './helpers/hardening-operations.ts';

const RATE_LIMIT = 5;
let gw: Gateway;

beforeAll(async () => {
  gw = await Gateway.start({
    NODE_ENV: 'production',
    GENERATE_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
    MAX_ACTIVE_JOBS_PER_USER: '100',
  });
});
afterAll(async () => {
  await gw?.stop();
});

/** The server answers its health checks and a normal query, as a user who took no part in the attack. */
async function stillHealthy(): Promise<void> {
  expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
  expect((await gw.data('{ viewer { name } videoModel { id } }', {}, 'bystander')).viewer.name).toBe('bystander');
}

async function authHeaders(as = 'alice'): Promise<Record<string, string>> {
  return { authorization: `Bearer ${(await gw.login(as)).token}`, 'content-type': 'application/json' };
}

/** uploadAudio as the studio sends it in production (multipart with the CSRF header). */
async function upload(as: string, bytes: Uint8Array, fileName: string, query = UPLOAD_AUDIO): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query, variables: { file: null } }));
  form.set('map', JSON.stringify({ 0: ['variables.file'] }));
  form.set('0', new Blob([new Uint8Array(bytes)]), fileName);
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${(await gw.login(as)).token}`, 'x-graphql-yoga-csrf': '1' },
    body: form,
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body };
}

describe('operations over the limits', () => {
  it('refuses deep, wide, aliased, costly and directive-laden operations with 400 over HTTP and an error over graphql-ws', async () => {
    for (const { name, query, message } of OVER_LIMIT) {
      const res = await gw.gql(query);
      expect([name, res.status]).toEqual([name, 400]);
      expect([name, res.body.errors!.map((e) => e.message)]).toEqual([name, expect.arrayContaining([message])]);
      expect(res.body.data).toBeUndefined();
    }
    const client = await gw.ws('alice');
    for (const { name, query, message } of OVER_LIMIT) {
      const outcome = await record(client, query).done;
      expect([name, (outcome.error as Array<{ message: string }>).map((e) => e.message)]).toEqual([name, expect.arrayContaining([message])]);
    }
    await stillHealthy();
  });
});

describe('bodies', () => {
  it('refuses a 2 MB JSON body with 413, by Content-Length and when streamed', async () => {
    const body = JSON.stringify({ query: '{ viewer { name } }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    const declared = await rawPost(gw.url, '/graphql', body, await authHeaders());
    // 413, or the connection closed by the server before the client finished sending (the 413 was on its way).
    expect([413, -1]).toContain(declared.status);
    if (declared.status === 413) expect(JSON.parse(declared.body).errors[0].extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');

    const streamed = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: await authHeaders(),
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(body));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit).catch(() => null);
    if (streamed) expect(streamed.status).toBe(413);
    await stillHealthy();
  });

  it('accepts multipart only for uploadAudio, and files only up to the upload limit', async () => {
    const big = new Uint8Array(2 * 1024 * 1024);
    const notUpload = await upload('alice', big, 'pad.bin', 'mutation($file: File!) { generateVideo(input: { prompt: "x" }) { __typename } }');
    expect(notUpload.status).toBe(400);
    expect(JSON.stringify(notUpload.body)).toMatch(/only for the uploadAudio mutation/);

    const huge = await upload('alice', new Uint8Array(17 * 1024 * 1024), 'huge.mp3').catch(() => ({ status: -1, body: null }));
    expect([413, -1]).toContain(huge.status);
    await stillHealthy();
  });

  it('answers malformed JSON and a body that is not a GraphQL request with 400', async () => {
    const headers = { ...(await authHeaders()), accept: 'application/graphql-response+json' };
    for (const body of ['{"query": "{ viewer { name } }"', '{"query": 42}', 'null', '"just a string"', '{}', '\u0000\u0001binary']) {
      const res = await rawPost(gw.url, '/graphql', body, headers);
      expect([body, res.status]).toEqual([body, 400]);
      const parsed = JSON.parse(res.body);
      expect(parsed.errors.length).toBeGreaterThan(0);
      expect(res.body).not.toMatch(/at .*\.(js|ts):\d+/); // no stack trace
    }
    await stillHealthy();
  });
});

describe('graphql-ws', () => {
  it('closes a connection whose message is over 64 KiB with 1009, and accepts one below', async () => {
    const { token } = await gw.login('alice');
    const ws = await ackedWs(gw.wsUrl, token);
    ws.send({ id: 'ok', type: 'subscribe', payload: { query: '{ viewer { name } }', variables: { pad: 'x'.repeat(60 * 1024) } } });
    expect((await ws.next((m) => m.id === 'ok' && m.type === 'next')).payload.data).toEqual({ viewer: { name: 'alice' } });

    ws.send({ id: 'big', type: 'subscribe', payload: { query: '{ viewer { name } }', variables: { pad: 'x'.repeat(70 * 1024) } } });
    const closed = await within(ws.closed, 10_000, 'close after an oversized message');
    expect(closed.code).toBe(1009);
    expect(ws.messages.some((m) => m.id === 'big')).toBe(false);
    await stillHealthy();
  });

  it('closes a connection that never sends connection_init with 4408', async () => {
    const ws = await rawWs(gw.wsUrl);
    const closed = await within(ws.closed, 15_000, 'close without connection_init');
    expect(closed.code).toBe(4408);
    expect(ws.messages).toEqual([]);
    await stillHealthy();
  });

  it('accepts 20 subscriptions on one socket and refuses the other 30 of 50 with an error; the socket stays usable', async () => {
    const { token } = await gw.login('alice');
    const ws = await ackedWs(gw.wsUrl, token);
    for (let i = 1; i <= 50; i++) ws.send({ id: `s${i}`, type: 'subscribe', payload: { query: 'subscription { videoJobsUpdated { id } }' } });
    await ws.next(() => ws.messages.filter((m) => m.type === 'error').length === 30);
    const errors = ws.messages.filter((m) => m.type === 'error');
    expect(errors.every((m) => m.payload[0].extensions.code === 'TOO_MANY_SUBSCRIPTIONS')).toBe(true);
    expect(new Set(errors.map((m) => m.id)).size).toBe(30);
    expect(ws.socket.readyState).toBe(ws.socket.OPEN);

    // The 20 are live: a job of alice reaches each of them.
    const created = await gw.generate({ prompt: 'seen by twenty subscriptions' });
    expect(created.__typename).toBe('GenerateVideoSuccess');
    await ws.next(() => new Set(ws.messages.filter((m) => m.type === 'next').map((m) => m.id)).size === 20);

    // One ends; the slot frees up for a query on the same socket.
    ws.send({ id: 's1', type: 'complete' });
    ws.send({ id: 'q', type: 'subscribe', payload: { query: '{ viewer { name } }' } });
    expect((await ws.next((m) => m.id === 'q' && m.type === 'next')).payload.data).toEqual({ viewer: { name: 'alice' } });
    ws.close();
    await within(ws.closed, 10_000, 'client close');
    await stillHealthy();
  });
});

describe('tokens', () => {
  it('answers 401 over HTTP and closes graphql-ws with 4403 for missing, malformed, unknown and revoked tokens', async () => {
    const revoked = await gw.login('revoked');
    await gw.running.store.revokeTokens(revoked.user.id);
    const authorizations = [
      undefined,
      'Bearer',
      'Bearer vgt_unknown',
      `Bearer ${'x'.repeat(5000)}`,
      `Basic ${Buffer.from('user:pass').toString('base64')}`,
      `Bearer ${revoked.token}`,
    ];
    for (const authorization of authorizations) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (authorization) headers.authorization = authorization;
      const res = await rawPost(gw.url, '/graphql', JSON.stringify({ query: '{ viewer { name } }' }), headers);
      expect([authorization?.slice(0, 20), res.status]).toEqual([authorization?.slice(0, 20), 401]);
      const body = JSON.parse(res.body);
      expect(body.errors[0]).toMatchObject({ message: UNAUTHENTICATED_MESSAGE, extensions: { code: 'UNAUTHENTICATED' } });
      expect(res.body).not.toContain(revoked.token);

      const ws = await rawWs(gw.wsUrl);
      ws.send({ type: 'connection_init', payload: authorization ? { authorization } : {} });
      expect((await within(ws.closed, 10_000, 'ws close')).code).toBe(4403);
    }
    await stillHealthy();
  });

  it('ends an open graphql-ws connection with 4403 at its next operation once its token is revoked', async () => {
    const soon = await gw.login('soon-revoked');
    const ws = await ackedWs(gw.wsUrl, soon.token);
    ws.send({ id: 'a', type: 'subscribe', payload: { query: '{ viewer { name } }' } });
    await ws.next((m) => m.id === 'a' && m.type === 'complete');
    await gw.running.store.revokeTokens(soon.user.id);
    ws.send({ id: 'b', type: 'subscribe', payload: { query: '{ viewer { name } }' } });
    expect((await within(ws.closed, 10_000, 'ws close')).code).toBe(4403);
    expect(ws.messages.some((m) => m.id === 'b' && m.type === 'next')).toBe(false);
    await stillHealthy();
  });
});

describe('tenancy', () => {
  it("treats another user's ids exactly like unknown ids", async () => {
    const bobJob = await gw.generate({ prompt: "bob's private job" }, 'bob');
    expect(bobJob.__typename).toBe('GenerateVideoSuccess');
    const bobAudio = await upload('bob', fixture('tone-4s.wav'), 'tone.wav');
    expect(bobAudio.body.data.uploadAudio.__typename).toBe('UploadAudioSuccess');
    const jobId = bobJob.job.id as string;
    const audioId = bobAudio.body.data.uploadAudio.audio.id as string;
    const unknownJobId = jobId.slice(0, -2) + (jobId.endsWith('AA') ? 'AB' : 'AA');

    for (const id of [jobId, audioId]) {
      expect((await gw.data('query($id: ID!) { node(id: $id) { id } }', { id })).node).toBeNull();
      expect((await gw.data('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: [id] })).nodes).toEqual([null]);
    }
    expect((await gw.data('query($id: ID!) { videoJob(id: $id) { id prompt } }', { id: jobId })).videoJob).toBeNull();
    const list = await gw.data('{ videoJobs(first: 100) { edges { node { id } } } }');
    expect(list.videoJobs.edges.map((e: any) => e.node.id)).not.toContain(jobId);

    for (const id of [jobId, unknownJobId]) {
      const cancel = await gw.data('mutation($id: ID!) { cancelVideoJob(id: $id) { __typename ... on Error { code } } }', { id });
      expect(cancel.cancelVideoJob).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
      const del = await gw.data('mutation($id: ID!) { deleteVideoJob(id: $id) { __typename ... on Error { code } } }', { id });
      expect(del.deleteVideoJob).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
    const withAudio = await gw.generate({ prompt: 'with a stolen audio', audioId });
    expect(withAudio).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });

    for (const id of [jobId, unknownJobId]) {
      const sub = record(await gw.ws('alice'), 'subscription($id: ID!) { jobUpdated(id: $id) { id prompt } }', { id });
      await within(sub.done, 10_000, 'subscription end');
      expect(sub.messages).toHaveLength(1);
      expect(sub.messages[0]!.data ?? null).toBeNull();
      expect(sub.messages[0]!.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    await stillHealthy();
  });
});

describe('generateVideo flood', () => {
  it(`creates ${RATE_LIMIT} jobs a minute per user and answers RateLimitedError with a retry time for the rest`, async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gw.data(
          `mutation($input: GenerateVideoInput!) { generateVideo(input: $input) {
            __typename ... on Error { code } ... on RateLimitedError { retryAfterSeconds } } }`,
          { input: { prompt: `flood ${i}` } },
          'flooder',
        ),
      ),
    );
    const outcomes = results.map((r) => r.generateVideo);
    expect(outcomes.filter((o) => o.__typename === 'GenerateVideoSuccess')).toHaveLength(RATE_LIMIT);
    const limited = outcomes.filter((o) => o.__typename === 'RateLimitedError');
    expect(limited).toHaveLength(20 - RATE_LIMIT);
    for (const o of limited) {
      expect(o.code).toBe('RATE_LIMITED');
      expect(o.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(o.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
    expect((await gw.data('{ viewer { activeJobs } }', {}, 'flooder')).viewer.activeJobs).toBeLessThanOrEqual(RATE_LIMIT);
    // Other users are not affected.
    expect((await gw.generate({ prompt: 'someone else' }, 'neighbour')).__typename).toBe('GenerateVideoSuccess');

    // Calls that all start before the first one is recorded cannot slip past the limit either.
    const { user } = await gw.login('simultaneous');
    const direct = await Promise.all(Array.from({ length: 20 }, (_, i) => gw.running.engine.createJob(user.id, { prompt: `at once ${i}` })));
    expect(direct.filter((o) => o.kind === 'created')).toHaveLength(RATE_LIMIT);
    expect(direct.filter((o) => o.kind === 'rateLimited')).toHaveLength(20 - RATE_LIMIT);
    await stillHealthy();
  });
});
