// The HTTP surface of /graphql: authentication, tenancy of node/videoJob, masking, operation and body limits,
// GraphiQL and introspection by NODE_ENV, and the read-only queries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WAN_T2V } from '../src/domain/video-job.ts';
import { toGlobalId } from '../src/schema/global-id.ts';
import { ApiOnly, audioRow, FINISHED, record, videoRow } from './helpers/api-harness.ts';

let api: ApiOnly;

beforeAll(async () => {
  api = await ApiOnly.start();
});
afterAll(async () => {
  await api?.stop();
});

describe('authentication', () => {
  it('answers 401 with UNAUTHENTICATED for a missing, unknown or revoked token', async () => {
    const { user, token } = await api.login('revoked');
    await api.store.revokeTokens(user.id);
    for (const authorization of [undefined, 'Bearer vgt_unknown', `Bearer ${token}`, 'Basic dXNlcjpwYXNz', 'Bearer']) {
      const res = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ query: '{ viewer { id } }' }),
      });
      expect([authorization, res.status]).toEqual([authorization, 401]);
      const body = await res.json();
      expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(body.data).toBeUndefined();
      expect(JSON.stringify(body)).not.toContain(token);
    }
    // GET (queries) and SSE need the token as well.
    const get = await fetch(`${api.url}/graphql?query=${encodeURIComponent('{ viewer { id } }')}`, { headers: { accept: 'application/json' } });
    expect(get.status).toBe(401);
    const stream = await fetch(`${api.url}/graphql?query=${encodeURIComponent('subscription { videoJobsUpdated { id } }')}`, {
      headers: { accept: 'text/event-stream' },
    });
    expect(stream.status).toBe(401);
    await stream.body?.cancel();
  });

  it('checks the token before anything about the operation', async () => {
    const res = await api.gql('{ this is not graphql', {}, null);
    expect(res.status).toBe(401);
  });

  it('answers queries over GET with a token', async () => {
    const { token } = await api.login('alice');
    const res = await fetch(`${api.url}/graphql?query=${encodeURIComponent('{ viewer { name } }')}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { viewer: { name: 'alice' } } });
    const mutation = await fetch(`${api.url}/graphql?query=${encodeURIComponent('mutation { cancelVideoJob(id: "x") { __typename } }')}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
    expect(mutation.status).toBe(405);
  });
});

describe('read-only queries', () => {
  it('describes the model and the viewer', async () => {
    await api.addJob('vera');
    await api.addJob('vera', {}, FINISHED);
    const data = await api.data('{ videoModel { id name sizes { size width height } durationsSeconds maxPromptLength maxNegativePromptLength upstream } viewer { id name activeJobs maxActiveJobs } }', {}, 'vera');
    expect(data.videoModel).toEqual({
      id: 'model_wan-2-5-t2v',
      name: WAN_T2V.name,
      sizes: [
        { size: 'LANDSCAPE_720P', width: 1280, height: 720 },
        { size: 'PORTRAIT_720P', width: 720, height: 1280 },
        { size: 'LANDSCAPE_1080P', width: 1920, height: 1080 },
        { size: 'PORTRAIT_1080P', width: 1080, height: 1920 },
      ],
      durationsSeconds: [5, 10],
      maxPromptLength: 800,
      maxNegativePromptLength: 500,
      upstream: 'SIMULATED',
    });
    expect(data.viewer).toMatchObject({ name: 'vera', activeJobs: 1, maxActiveJobs: 10 });
    expect(data.viewer.id).not.toContain((await api.login('vera')).user.id);
  });

  it('serialises DateTime as ISO 8601 UTC with milliseconds and the job fields as the contract says', async () => {
    const job = await api.addJob('dates', { size: 'PORTRAIT_1080P', durationSeconds: 10, seed: 99, negativePrompt: 'blur' });
    const data = await api.data(
      `query($id: ID!) { videoJob(id: $id) { id version status createdAt updatedAt submittedAt completedAt width height size durationSeconds seed negativePrompt etaSeconds queuePosition error { code } audio { id } videos { id } events { seq at status } } }`,
      { id: toGlobalId('VideoJob', job.id) },
      'dates',
    );
    expect(data.videoJob).toEqual({
      id: toGlobalId('VideoJob', job.id),
      version: 1,
      status: 'PENDING',
      createdAt: new Date(job.createdAt).toISOString(),
      updatedAt: new Date(job.updatedAt).toISOString(),
      submittedAt: null,
      completedAt: null,
      width: 1080,
      height: 1920,
      size: 'PORTRAIT_1080P',
      durationSeconds: 10,
      seed: 99,
      negativePrompt: 'blur',
      etaSeconds: null,
      queuePosition: null,
      error: null,
      audio: null,
      videos: [],
      events: [{ seq: 1, at: new Date(job.createdAt).toISOString(), status: 'PENDING' }],
    });
    expect(data.videoJob.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});

describe('tenancy', () => {
  it("resolves the viewer's nodes by global id and treats another user's like unknown ids", async () => {
    const job = await api.addJob('tenant');
    const { user } = await api.login('tenant');
    await api.store.updateJob(job.id, FINISHED, {
      videoAssets: [videoRow(job, api.clock.now(), { id: `${job.id}-v0`, thumbnailPath: `videos/${job.id}/0.jpg` })],
    });
    await api.store.addAudio(audioRow(`${job.id}-audio`, user.id, api.clock.now()));
    const ids = {
      job: toGlobalId('VideoJob', job.id),
      video: toGlobalId('VideoAsset', `${job.id}-v0`),
      audio: toGlobalId('AudioAsset', `${job.id}-audio`),
    };
    const NODE = `query($id: ID!) { node(id: $id) { __typename id } }`;
    for (const [type, id] of [
      ['VideoJob', ids.job],
      ['VideoAsset', ids.video],
      ['AudioAsset', ids.audio],
    ] as const) {
      expect((await api.data(NODE, { id }, 'tenant')).node).toEqual({ __typename: type, id });
      const foreign = await api.gql(NODE, { id }, 'intruder');
      expect(foreign.body).toEqual({ data: { node: null } });
    }
    const nodes = await api.data(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [ids.job, 'junk', ids.audio] }, 'tenant');
    expect(nodes.nodes).toEqual([{ id: ids.job }, null, { id: ids.audio }]);
    expect((await api.data(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [ids.job, ids.video] }, 'intruder')).nodes).toEqual([null, null]);

    for (const id of [ids.job, toGlobalId('VideoJob', 'nope'), ids.video, 'garbage', '']) {
      expect((await api.gql(`query($id: ID!) { videoJob(id: $id) { id } }`, { id }, 'intruder')).body).toEqual({ data: { videoJob: null } });
      expect((await api.gql(NODE, { id }, 'intruder')).body).toEqual({ data: { node: null } });
    }
    expect((await api.data(`query($id: ID!) { videoJob(id: $id) { id } }`, { id: ids.video }, 'tenant')).videoJob).toBeNull();
  });
});

describe('errors and limits', () => {
  it('masks unexpected errors over HTTP and graphql-ws: generic message, INTERNAL_SERVER_ERROR, no details', async () => {
    const original = api.store.countActiveJobs;
    api.store.countActiveJobs = async () => {
      throw new Error('SQLITE_CORRUPT at /secret/path/gateway.db');
    };
    try {
      const res = await api.gql('{ viewer { name activeJobs } }');
      expect(res.status).toBe(200);
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors![0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(JSON.stringify(res.body)).not.toMatch(/secret|SQLITE/);

      const sub = record(await api.ws('alice'), '{ viewer { activeJobs } }');
      await sub.done;
      expect(sub.messages[0]!.errors![0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(JSON.stringify(sub.messages)).not.toMatch(/secret|SQLITE/);
    } finally {
      api.store.countActiveJobs = original;
    }
  });

  it('refuses over-deep, over-aliased and over-long operations before running them', async () => {
    const deep = `{ videoJobs { edges { node { audio { id } videos { id } events { seq } } } } }`;
    expect((await api.gql(deep)).body.errors).toBeUndefined();
    const fragmentLoop = `query { viewer { ...A } } fragment A on Viewer { name }`;
    expect((await api.gql(fragmentLoop)).body.errors).toBeUndefined();

    // The schema has no cycles, so only an operation that is wrong anyway gets this deep; the limit still says so.
    const tooDeep = `{ videoJobs { edges { node { audio { id ${'{ x '.repeat(8)}${'} '.repeat(8)}} } } } }`;
    const depthRes = await api.gql(tooDeep);
    expect(depthRes.status).toBe(400);
    // GraphQL Armor's limits (src/http/limits.ts) never state the limit or the measured value.
    expect(depthRes.body.errors!.map((e) => e.message)).toContain('The operation is nested too deeply.');

    const nested = `{ videoJobs { edges { node { ${'... on VideoJob { '.repeat(12)} id ${'} '.repeat(12)} } } } }`;
    expect((await api.gql(nested)).body.errors).toBeUndefined();

    const aliases = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: viewer { name }`).join(' ')} }`;
    const aliasRes = await api.gql(aliases);
    expect(aliasRes.status).toBe(400);
    expect(aliasRes.body.errors![0]!.message).toBe('The operation uses too many aliases.');

    const tokens = `{ viewer { ${'name '.repeat(2500)} } }`;
    const tokenRes = await api.gql(tokens);
    expect(tokenRes.status).toBe(400);
    expect(tokenRes.body.errors![0]!.message).toBe('Syntax Error: The operation is too long.');
  });

  it('refuses JSON bodies above 100 KB with 413', async () => {
    const { token } = await api.login('alice');
    const body = JSON.stringify({ query: '{ viewer { name } }', variables: { pad: 'x'.repeat(101 * 1024) } });
    const res = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    });
    expect(res.status).toBe(413);
    // Streamed without a Content-Length, the same limit applies.
    const chunks = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(body));
        controller.close();
      },
    });
    const streamed = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('serves GraphiQL and introspection outside production', async () => {
    const page = await fetch(`${api.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/graphiql/i);
    const introspection = await api.gql('{ __schema { queryType { name } } }');
    expect(introspection.body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const suggestion = await api.gql('{ viewr { id } }');
    expect(suggestion.body.errors![0]!.message).toMatch(/Did you mean/);
  });
});

describe('production mode', () => {
  let prod: ApiOnly;
  beforeAll(async () => {
    prod = await ApiOnly.start({ NODE_ENV: 'production' });
  });
  afterAll(async () => {
    await prod?.stop();
  });

  it('turns off GraphiQL, introspection and field suggestions', async () => {
    const page = await fetch(`${prod.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/graphiql/i);
    const introspection = await prod.gql('{ __schema { queryType { name } } }');
    expect(introspection.body.errors?.[0]?.message).toMatch(/introspection/i);
    const suggestion = await prod.gql('{ viewr { id } }');
    expect(suggestion.body.errors![0]!.message).toBe('Cannot query field "viewr" on type "Query".');
    expect((await prod.data('{ viewer { name } }')).viewer.name).toBe('alice');
  });
});
