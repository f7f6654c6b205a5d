// Query.videoJobs over a store the test fills by hand: keyset cursors, every order and filter, page edges,
// refused page sizes, and DataLoader batching measured in SQL statements.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VideoJob } from '../src/domain/video-job.ts';
import { toGlobalId } from '../src/schema/global-id.ts';
import { ApiOnly, audioRow, FINISHED, videoRow } from './helpers/api-harness.ts';

const PAGE = `query($first: Int, $after: String, $last: Int, $before: String, $filter: VideoJobFilter, $orderBy: VideoJobOrder) {
  videoJobs(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id prompt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

let api: ApiOnly;
/** alice's jobs, oldest first. */
const jobs: VideoJob[] = [];
const gid = (job: VideoJob) => toGlobalId('VideoJob', job.id);

async function page(variables: Record<string, unknown>, as = 'alice') {
  const res = await api.gql(PAGE, variables, as);
  return res;
}
async function ids(variables: Record<string, unknown>, as = 'alice'): Promise<string[]> {
  const res = await page(variables, as);
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.videoJobs.edges.map((e: any) => e.node.id);
}

beforeAll(async () => {
  api = await ApiOnly.start();
  const sizes = ['LANDSCAPE_720P', 'PORTRAIT_720P', 'LANDSCAPE_1080P'] as const;
  for (let i = 0; i < 25; i++) {
    const finished = i % 2 === 0;
    jobs.push(
      await api.addJob(
        'alice',
        {
          prompt: i % 5 === 0 ? `A Red FOX number ${i}` : `a calm lake ${i}`,
          negativePrompt: i === 7 ? 'no foxes please' : null,
          size: sizes[i % 3],
          durationSeconds: i % 4 === 0 ? 10 : 5,
        },
        finished ? FINISHED : undefined,
      ),
    );
  }
  await api.addJob('bob', { prompt: 'A red fox of bob' });
});

afterAll(async () => {
  await api?.stop();
});

describe('videoJobs', () => {
  it('pages newest first by default, 20 per page, with opaque cursors', async () => {
    const res = await page({});
    const connection = res.body.data.videoJobs;
    expect(connection.totalCount).toBe(25);
    expect(connection.edges).toHaveLength(20);
    expect(connection.edges.map((e: any) => e.node.id)).toEqual(jobs.slice(5).reverse().map(gid));
    expect(connection.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(connection.pageInfo.startCursor).toBe(connection.edges[0].cursor);
    expect(connection.pageInfo.endCursor).toBe(connection.edges[19].cursor);
    // Opaque, and not an offset.
    expect(connection.edges[0].cursor).not.toMatch(/^\d+$/);
    expect(Buffer.from(connection.edges[0].cursor, 'base64url').toString()).not.toContain('Offset');
  });

  it('walks forward with after and back with last/before over every order', async () => {
    for (const [order, expected] of [
      ['CREATED_AT_DESC', [...jobs].reverse()],
      ['CREATED_AT_ASC', jobs],
      // Finished jobs were updated one tick after their creation; order by (updatedAt, id) descending.
      ['UPDATED_AT_DESC', [...jobs].sort((a, b) => b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : -1))],
    ] as const) {
      const forward: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const res = await page({ first: 7, after, orderBy: order });
        const c = res.body.data.videoJobs;
        forward.push(...c.edges.map((e: any) => e.node.id));
        expect(c.pageInfo.hasPreviousPage).toBe(after !== null);
        pages++;
        if (!c.pageInfo.hasNextPage) break;
        after = c.pageInfo.endCursor;
      }
      expect([order, forward]).toEqual([order, expected.map(gid)]);
      expect(pages).toBe(4);

      const backward: string[] = [];
      let before: string | null = null;
      for (;;) {
        const res = await page({ last: 10, before, orderBy: order });
        const c = res.body.data.videoJobs;
        backward.unshift(...c.edges.map((e: any) => e.node.id));
        expect(c.pageInfo.hasNextPage).toBe(before !== null);
        if (!c.pageInfo.hasPreviousPage) break;
        before = c.pageInfo.startCursor;
      }
      expect([order, backward]).toEqual([order, expected.map(gid)]);
    }
  });

  it('handles the page edges: exact page, after the last row, between two cursors, zero', async () => {
    const all = await page({ first: 25 });
    expect(all.body.data.videoJobs.edges).toHaveLength(25);
    expect(all.body.data.videoJobs.pageInfo.hasNextPage).toBe(false);

    const last = all.body.data.videoJobs.pageInfo.endCursor;
    const beyond = await page({ first: 5, after: last });
    expect(beyond.body.data.videoJobs).toMatchObject({
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null },
      totalCount: 25,
    });

    const edges = all.body.data.videoJobs.edges;
    const between = await ids({ first: 100, after: edges[3].cursor, before: edges[9].cursor });
    expect(between).toEqual(edges.slice(4, 9).map((e: any) => e.node.id));
    const betweenFromEnd = await ids({ last: 2, after: edges[3].cursor, before: edges[9].cursor });
    expect(betweenFromEnd).toEqual(edges.slice(7, 9).map((e: any) => e.node.id));

    expect(await ids({ last: 3 })).toEqual(jobs.slice(0, 3).reverse().map(gid));
    expect(await ids({ first: 0 })).toEqual([]);
  });

  it('is empty for a user without jobs', async () => {
    const res = await page({}, 'carol');
    expect(res.body.data.videoJobs).toEqual({
      totalCount: 0,
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });

  it('applies every filter, combined, to the page and to totalCount', async () => {
    const matches = (predicate: (job: VideoJob) => boolean) => [...jobs].reverse().filter(predicate).map(gid);
    const cases: Array<[Record<string, unknown>, (job: VideoJob) => boolean]> = [
      [{ status: ['SUCCEEDED'] }, (j) => jobs.indexOf(j) % 2 === 0],
      [{ status: ['PENDING', 'SUCCEEDED'] }, () => true],
      [{ search: 'red fox' }, (j) => /red fox/i.test(j.prompt)],
      [{ search: 'FOXES' }, (j) => j.negativePrompt === 'no foxes please'],
      [{ size: ['PORTRAIT_720P', 'LANDSCAPE_1080P'] }, (j) => j.size !== 'LANDSCAPE_720P'],
      [{ durationSeconds: [10] }, (j) => j.durationSeconds === 10],
      [{ hasAudio: true }, () => false],
      [{ hasAudio: false }, () => true],
      [{ createdAfter: new Date(jobs[20]!.createdAt).toISOString() }, (j) => j.createdAt > jobs[20]!.createdAt],
      [{ createdBefore: new Date(jobs[3]!.createdAt).toISOString() }, (j) => j.createdAt < jobs[3]!.createdAt],
      [
        { status: ['SUCCEEDED'], size: ['LANDSCAPE_720P'], durationSeconds: [10], search: 'fox' },
        (j) => jobs.indexOf(j) % 2 === 0 && j.size === 'LANDSCAPE_720P' && j.durationSeconds === 10 && /fox/i.test(j.prompt),
      ],
      [{ status: [], size: null, search: '' }, () => true],
    ];
    for (const [filter, predicate] of cases) {
      const res = await page({ first: 100, filter });
      const expected = matches(predicate);
      expect([filter, res.body.data.videoJobs.edges.map((e: any) => e.node.id)]).toEqual([filter, expected]);
      expect([filter, res.body.data.videoJobs.totalCount]).toEqual([filter, expected.length]);
    }
  });

  it('refuses page sizes above 100 and other bad arguments with BAD_USER_INPUT', async () => {
    for (const variables of [{ first: 101 }, { last: 101 }, { first: -1 }, { first: 5, last: 5 }, { after: 'not-a-cursor' }]) {
      const res = await page(variables);
      expect([variables, res.body.errors?.[0]?.extensions?.code]).toEqual([variables, 'BAD_USER_INPUT']);
      expect(res.body.data).toBeNull();
    }
    expect((await page({ first: 100 })).body.errors).toBeUndefined();
    const descCursor = (await page({ first: 1 })).body.data.videoJobs.pageInfo.endCursor;
    const otherOrder = await page({ first: 1, after: descCursor, orderBy: 'CREATED_AT_ASC' });
    expect(otherOrder.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badDate = await page({ filter: { createdAfter: 'yesterday' } });
    expect(badDate.status).toBe(400);
  });

  it("never lists another user's jobs", async () => {
    const bobIds = await ids({ first: 100 }, 'bob');
    expect(bobIds).toHaveLength(1);
    expect(jobs.map(gid)).not.toContain(bobIds[0]);
  });
});

describe('batching', () => {
  const NESTED = `query($first: Int!) { videoJobs(first: $first) {
    totalCount
    edges { node { id status audio { id fileName } videos { id url mimeType } events { seq status } } }
  } }`;

  it('reads videos, events and audio in one statement each, whatever the page size', async () => {
    const { user } = await api.login('dave');
    // Every job has audio, videos and events, so every loader has work on every page.
    await api.store.addAudio(audioRow('audio-dave', user.id, api.clock.now()));
    for (let i = 0; i < 100; i++) {
      const job = await api.addJob('dave', { audioId: 'audio-dave' });
      await api.store.updateJob(job.id, FINISHED, { videoAssets: [videoRow(job, api.clock.now())] });
    }
    const count = async (first: number) => {
      api.statements.length = 0;
      const res = await api.gql(NESTED, { first }, 'dave');
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.videoJobs.edges).toHaveLength(first);
      for (const { node } of res.body.data.videoJobs.edges) {
        expect(node.audio.fileName).toBe('tone.wav');
        expect(node.videos).toHaveLength(1);
        expect(node.events.map((e: any) => e.seq)).toEqual([1, 2]);
      }
      return [...api.statements];
    };
    const one = await count(1);
    const hundred = await count(100);
    expect(hundred.length).toBe(one.length);
    // token lookup, page, count, then one read each of audio, videos and events
    expect(hundred).toHaveLength(6);
    for (const table of ['audio_assets', 'video_assets', 'job_events']) {
      expect([table, hundred.filter((sql) => sql.includes(`from "${table}"`)).length]).toEqual([table, 1]);
    }
  });
});
