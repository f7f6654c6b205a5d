// The API on either store (CONTRACT §9): a whole gateway on SQLite and on PostgreSQL answers the same. Text
// PostgreSQL cannot store (U+0000) is refused as bad input on both alike, never an internal error, and a job runs to
// the end on both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/schema/global-id.ts';
import { Gateway } from './helpers/api-harness.ts';
import { fixture, uploadAudio } from './helpers/api-upload.ts';
import { createTestDatabase } from './helpers/postgres.ts';
import { hasPostgres } from './helpers/services.ts';

const GENERATE = `mutation($input: GenerateVideoInput!) { generateVideo(input: $input) {
  __typename
  ... on GenerateVideoSuccess { job { id status } }
  ... on ValidationError { fieldErrors { path message } }
} }`;

const stores = [
  { name: 'SQLite', skip: false, database: async () => ({ env: {}, drop: async () => {} }) },
  {
    name: 'PostgreSQL',
    skip: !hasPostgres,
    database: async () => {
      const db = await createTestDatabase();
      return { env: { DATABASE_URL: db.url }, drop: db.drop };
    },
  },
];

describe.each(stores)('the API on $name', ({ skip, database }) => {
  let gw: Gateway;
  let drop: () => Promise<void> = async () => {};

  beforeAll(async () => {
    if (skip) return;
    const db = await database();
    drop = db.drop;
    gw = await Gateway.start(db.env);
  });
  afterAll(async () => {
    await gw?.stop();
    await drop();
  });

  it.skipIf(skip)('refuses the NUL character as bad input, naming the field, and stores nothing', async () => {
    const nul = 'a\u0000b';
    const refused = (await gw.data(GENERATE, { input: { prompt: nul, negativePrompt: nul, idempotencyKey: nul } })).generateVideo;
    expect(refused.__typename).toBe('ValidationError');
    expect(refused.fieldErrors.map((error: { path: string[] }) => error.path)).toEqual([
      ['input', 'prompt'],
      ['input', 'negativePrompt'],
      ['input', 'idempotencyKey'],
    ]);
    expect(refused.fieldErrors[0].message).toMatch(/U\+0000/);

    const search = await gw.gql('query($search: String) { videoJobs(filter: { search: $search }) { totalCount } }', { search: nul });
    expect(search.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(search.body.errors?.[0]?.message).toMatch(/filter\.search/);

    const { token } = await gw.login('alice');
    const upload = await uploadAudio(gw.url, token, fixture('tone-4s.wav'), nul);
    expect(upload.body.data.uploadAudio).toMatchObject({ __typename: 'ValidationError' });
    expect(upload.body.data.uploadAudio.fieldErrors.map((e: { path: string[] }) => e.path)).toEqual([['file']]);

    const unknown = await gw.data('query($id: ID!) { videoJob(id: $id) { id } }', { id: toGlobalId('VideoJob', nul) });
    expect(unknown.videoJob).toBeNull();
    expect((await gw.data('{ videoJobs { totalCount } }')).videoJobs.totalCount).toBe(0);
  });

  it.skipIf(skip)('runs a job to SUCCEEDED and finds it by a search beyond ASCII', async () => {
    const created = (await gw.data(GENERATE, { input: { prompt: 'Été à Paris, ÉTÉ' } })).generateVideo;
    expect(created.__typename).toBe('GenerateVideoSuccess');
    const done = await gw.waitForStatus(created.job.id, ['SUCCEEDED', 'FAILED']);
    expect(done.status).toBe('SUCCEEDED');
    const found = await gw.data('{ videoJobs(filter: { search: "été" }) { totalCount edges { node { id } } } }');
    expect(found.videoJobs.totalCount).toBe(1);
    expect(found.videoJobs.edges[0].node.id).toBe(created.job.id);
  });
});
