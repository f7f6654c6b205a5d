// Operation limits (GraphQL Armor, src/http/limits.ts) over HTTP and graphql-ws: every over-limit operation is refused
// with a validation error that states no number, before any resolver runs or any SQL statement is sent (counted here),
// while the heaviest legitimate operation still passes. Production mode: no introspection, no suggestions, CSRF checks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMIT_MESSAGES } from '../src/http/limits.ts';
import { schema } from '../src/schema/index.ts';
import { ApiOnly, FINISHED, record } from './helpers/api-harness.ts';
import { countResolverCalls, rawPost } from './helpers/hardening-clients.ts';
import { FULL_JOB, FULL_PAGE, OVER_LIMIT } from './helpers/hardening-operations.ts';
import { fixture, uploadAudio, UPLOAD_AUDIO } from './helpers/api-upload.ts';

const resolvers = countResolverCalls(schema);

let api: ApiOnly;

beforeAll(async () => {
  api = await ApiOnly.start();
  await api.addJob('alice');
  await api.addJob('alice', {}, FINISHED);
});
afterAll(async () => {
  await api?.stop();
});

describe('operation limits over HTTP', () => {
  it.each(OVER_LIMIT)('refuses a $name operation with 400, no resolver call and no SQL statement', async ({ query, message }) => {
    await api.login('alice'); // the token exists before counting
    const statements = api.statements.length;
    const calls = resolvers.calls();
    const res = await api.gql(query);
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    const messages = res.body.errors!.map((e) => e.message);
    expect(messages).toContain(message);
    // The limits do not reveal themselves: no number in any message.
    for (const text of messages) expect(text).not.toMatch(/\d/);
    expect(api.statements.length - statements).toBe(0);
    expect(resolvers.calls() - calls).toBe(0);
  });

  it('still answers the heaviest legitimate operations', async () => {
    const heavy = await api.gql(`{ ${FULL_PAGE} viewer { id name activeJobs maxActiveJobs } }`);
    expect(heavy.status).toBe(200);
    expect(heavy.body.errors).toBeUndefined();
    expect(heavy.body.data.videoJobs.edges.length).toBe(2);

    // The deepest selection the schema allows (5 levels), fragments (which add no level) and 15 aliases.
    const deepest = await api.gql(`query Deepest { videoJobs { edges { node { ...Job } } } } fragment Job on VideoJob { audio { id } error { code } videos { id } events { seq } }`);
    expect(deepest.body.errors).toBeUndefined();
    const aliases = await api.gql(`{ ${Array.from({ length: 15 }, (_, i) => `a${i}: viewer { name }`).join(' ')} }`);
    expect(aliases.body.errors).toBeUndefined();
    const mutation = await api.gql(`mutation { cancelVideoJob(id: "x") { __typename ... on NotCancelableError { job { ${FULL_JOB} } } ... on NotFoundError { code } } }`);
    expect(mutation.body.data.cancelVideoJob).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
  });

  it('refuses batched requests (an array of operations) without running any', async () => {
    const { token } = await api.login('alice');
    const calls = resolvers.calls();
    const res = await rawPost(api.url, '/graphql', JSON.stringify([{ query: '{ viewer { name } }' }, { query: '{ viewer { id } }' }]), {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(JSON.parse(res.body).errors.length).toBeGreaterThan(0);
    expect(resolvers.calls() - calls).toBe(0);
  });
});

describe('operation limits over graphql-ws', () => {
  it('refuses every over-limit operation with an error message, no resolver call and no SQL statement; the socket stays open', async () => {
    const client = await api.ws('alice');
    // Connect and authenticate first (SQL), then count. The open subscription keeps the (lazy) connection up.
    const holder = record(client, 'subscription { videoJobsUpdated { id } }');
    const warmup = record(client, '{ viewer { name } }');
    expect((await warmup.done).completed).toBe(true);
    const statements = api.statements.length;
    const calls = resolvers.calls();
    for (const { name, query, message } of OVER_LIMIT) {
      const op = record(client, query);
      const outcome = await op.done;
      expect([name, outcome.completed]).toEqual([name, false]);
      const messages = (outcome.error as Array<{ message: string }>).map((e) => e.message);
      expect([name, messages]).toEqual([name, expect.arrayContaining([message])]);
      for (const text of messages) expect(text).not.toMatch(/\d/);
    }
    expect(api.statements.length - statements).toBe(0);
    expect(resolvers.calls() - calls).toBe(0);
    const after = record(client, '{ viewer { name } }');
    await after.done;
    expect(after.messages[0]!.data).toEqual({ viewer: { name: 'alice' } });
    holder.unsubscribe();
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

  it('refuses introspection and hides every "Did you mean" hint', async () => {
    for (const query of ['{ __schema { types { name } } }', '{ __type(name: "VideoJob") { fields { name } } }']) {
      const res = await prod.gql(query);
      expect(res.status).toBe(400);
      expect(res.body.errors![0]!.message).toMatch(/introspection/i);
    }
    const refused = [
      await prod.gql('{ viewr { id } }'),
      await prod.gql('{ viewer { nam } }'),
      await prod.gql('{ videoJobs(frist: 1) { totalCount } }'),
      await prod.gql('{ videoJobs(orderBy: CREATED) { totalCount } }'),
      await prod.gql('query($o: VideoJobOrder) { videoJobs(orderBy: $o) { totalCount } }', { o: 'CREATED' }),
      await prod.gql('{ node(id: "x") { ... on VideoJb { id } } }'),
    ];
    for (const res of refused) {
      expect(res.body.errors?.length).toBeGreaterThan(0);
      expect(JSON.stringify(res.body)).not.toMatch(/did you mean/i);
    }
    expect(refused[0]!.body.errors![0]!.message).toBe('Cannot query field "viewr" on type "Query".');
    // The limits are on in production too, and __typename still works.
    expect((await prod.gql(OVER_LIMIT[1]!.query)).body.errors![0]!.message).toBe(LIMIT_MESSAGES.aliases);
    expect((await prod.data('{ __typename viewer { name } }')).viewer.name).toBe('alice');
  });

  it('refuses requests a browser could send from another site without a preflight (403), after the token check', async () => {
    const { token } = await prod.login('alice');
    const query = encodeURIComponent('{ viewer { name } }');
    const auth = { authorization: `Bearer ${token}`, accept: 'application/json' };

    expect((await fetch(`${prod.url}/graphql?query=${query}`, { headers: { accept: 'application/json' } })).status).toBe(401);
    const simpleGet = await fetch(`${prod.url}/graphql?query=${query}`, { headers: auth });
    expect(simpleGet.status).toBe(403);
    expect((await simpleGet.json()).errors[0].extensions.code).toBe('CSRF_PREVENTED');
    const preflightedGet = await fetch(`${prod.url}/graphql?query=${query}`, { headers: { ...auth, 'x-graphql-yoga-csrf': '1' } });
    expect(await preflightedGet.json()).toEqual({ data: { viewer: { name: 'alice' } } });

    const textPlain = await rawPost(prod.url, '/graphql', JSON.stringify({ query: '{ viewer { name } }' }), { ...auth, 'content-type': 'text/plain' });
    expect(textPlain.status).toBe(403);
    const json = await prod.gql('{ viewer { name } }');
    expect(json.body).toEqual({ data: { viewer: { name: 'alice' } } });

    // Uploads are multipart: a browser page adds the header (the studio does).
    const refusedUpload = await uploadAudio(prod.url, token, fixture('tone-4s.wav'), 'tone.wav');
    expect(refusedUpload.status).toBe(403);
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: UPLOAD_AUDIO, variables: { file: null } }));
    form.set('map', JSON.stringify({ 0: ['variables.file'] }));
    form.set('0', new Blob([new Uint8Array(fixture('tone-4s.wav'))]), 'tone.wav');
    const accepted = await fetch(`${prod.url}/graphql`, { method: 'POST', headers: { ...auth, 'x-graphql-yoga-csrf': '1' }, body: form });
    expect(accepted.status).not.toBe(403);
    expect(JSON.stringify(await accepted.json())).not.toMatch(/CSRF/);
  });

  it('serves no GraphiQL page', async () => {
    const page = await fetch(`${prod.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/graphiql/i);
  });
});
