// The response cache over real HTTP: a query repeated within the same second is answered with the same bytes and
// no SQL beyond the token lookup, and never with anything a fresh execution would not give: another user's data,
// data older than the last write, a mutation's result, a result with errors, or anything after a token's revocation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/schema/global-id.ts';
import { ApiOnly, FINISHED, waitFor } from './helpers/api-harness.ts';

let api: ApiOnly;
beforeAll(async () => {
  api = await ApiOnly.start();
  await api.addJob('alice', { prompt: 'alice one' }, FINISHED);
  await api.addJob('alice', { prompt: 'alice two' }, FINISHED);
  await api.addJob('bob', { prompt: 'bob one' }, FINISHED);
});
afterAll(async () => {
  await api?.stop();
});

const HISTORY = '{ videoJobs(first: 10) { edges { node { id prompt progress status } } } }';

async function post(as: string, query: string, accept = 'application/graphql-response+json, application/json') {
  const { token } = await api.login(as);
  const res = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
}

/**
 * Runs `requests` inside one wall-clock second (the cache's lifetime), starting early in a second; tries again
 * (at most 3 times) if the machine was too slow to stay inside it. Returns the SQL statements each request ran.
 */
async function inOneSecond<T>(requests: Array<() => Promise<T>>): Promise<Array<{ result: T; statements: string[] }>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
    const second = Math.floor(Date.now() / 1000);
    const out: Array<{ result: T; statements: string[] }> = [];
    for (const request of requests) {
      api.statements.length = 0;
      const result = await request();
      out.push({ result, statements: [...api.statements] });
    }
    if (Math.floor(Date.now() / 1000) === second) return out;
  }
  throw new Error('could not run the requests within one second in 3 attempts');
}

const isTokenLookup = (sql: string) => /from "api_tokens"/i.test(sql);

describe('response cache', () => {
  it('answers a query repeated within the same second with the same bytes and only the token lookup', async () => {
    const [first, second] = await inOneSecond([() => post('alice', HISTORY), () => post('alice', HISTORY)]);
    expect(first!.result.status).toBe(200);
    expect(JSON.parse(first!.result.text).data.videoJobs.edges.map((e: any) => e.node.prompt)).toEqual(['alice two', 'alice one']);
    expect(first!.statements.some((sql) => /from "video_jobs"/i.test(sql))).toBe(true);
    expect(second!.result).toEqual(first!.result);
    expect(second!.statements, JSON.stringify(second!.statements)).toHaveLength(1);
    expect(isTokenLookup(second!.statements[0]!)).toBe(true);
  });

  it('never gives one user’s response to another sending the same body', async () => {
    const [alice, bob] = await inOneSecond([() => post('alice', HISTORY), () => post('bob', HISTORY)]);
    const prompts = (text: string) => JSON.parse(text).data.videoJobs.edges.map((e: any) => e.node.prompt);
    expect(prompts(alice!.result.text)).toEqual(['alice two', 'alice one']);
    expect(prompts(bob!.result.text)).toEqual(['bob one']);
  });

  it('shows a write to the user’s data at once, within the same second', async () => {
    const job = await api.addJob('dora', { prompt: 'dora one' });
    const [before, after] = await inOneSecond([
      () => post('dora', HISTORY),
      async () => {
        await api.store.updateJob(job.id, { progress: 0.5 });
        return post('dora', HISTORY);
      },
    ]);
    const progress = (text: string) => JSON.parse(text).data.videoJobs.edges[0].node.progress;
    expect(progress(before!.result.text)).toBe(0);
    expect(progress(after!.result.text)).toBe(0.5);
  });

  it('keeps a response per Accept header, each with its own content type', async () => {
    const [graphqlResponse, json] = await inOneSecond([
      () => post('alice', HISTORY, 'application/graphql-response+json'),
      () => post('alice', HISTORY, 'application/json'),
    ]);
    expect(graphqlResponse!.result.contentType).toMatch(/^application\/graphql-response\+json/);
    expect(json!.result.contentType).toMatch(/^application\/json/);
  });

  it('never reuses a mutation’s result', async () => {
    const job = await api.addJob('erin', { prompt: 'to delete' }, FINISHED);
    const remove = `mutation { deleteVideoJob(id: "${toGlobalId('VideoJob', job.id)}") { __typename } }`;
    const [first, second] = await inOneSecond([() => post('erin', remove), () => post('erin', remove)]);
    expect(JSON.parse(first!.result.text).data.deleteVideoJob.__typename).toBe('DeleteVideoJobSuccess');
    expect(JSON.parse(second!.result.text).data.deleteVideoJob.__typename).toBe('NotFoundError');
  });

  it('never reuses a result with errors', async () => {
    const partial = '{ viewer { activeJobs } videoJobs(first: 101) { edges { cursor } } }';
    const [first, second] = await inOneSecond([() => post('alice', partial), () => post('alice', partial)]);
    expect(JSON.parse(first!.result.text).errors).toHaveLength(1);
    const counts = (statements: string[]) => statements.filter((sql) => !isTokenLookup(sql)).length;
    expect(counts(first!.statements)).toBeGreaterThan(0);
    expect(counts(second!.statements)).toBe(counts(first!.statements));
  });

  it('passes a stream on as it comes, holds up no identical request, and ends the subscription when the client leaves', async () => {
    const job = await api.addJob('gina', { prompt: 'gina running' });
    const { token } = await api.login('gina');
    const bus = api.handler.services.bus;
    const before = bus.listenerCount();
    const subscribe = (signal: AbortSignal) =>
      fetch(`${api.url}/graphql`, {
        method: 'POST',
        signal,
        // No Accept header, as fetch and curl send by default: yoga answers a subscription with SSE.
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: 'subscription { videoJobsUpdated { prompt } }' }),
      });
    const aborter = new AbortController();
    const timer = setTimeout(() => aborter.abort(), 5_000);
    try {
      const [first, second] = [await subscribe(aborter.signal), await subscribe(aborter.signal)];
      for (const res of [first, second]) {
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      }
      await waitFor(() => bus.listenerCount() === before + 2, 5_000, 'both subscriptions listening');
      // A change now arrives as an event on each stream.
      bus.publish((await api.store.updateJob(job.id, { progress: 0.25 }))!);
      for (const res of [first, second]) {
        const reader = res.body!.getReader();
        let text = '';
        while (!text.includes('gina running')) {
          const { value, done } = await reader.read();
          if (done) break;
          text += Buffer.from(value).toString('utf8');
        }
        expect(text).toContain('gina running');
      }
    } finally {
      clearTimeout(timer);
      aborter.abort();
    }
    await waitFor(() => bus.listenerCount() === before, 5_000, 'the subscriptions ended after the clients left');
  });

  it('keys responses on the Origin header too, so CORS headers always match the request', async () => {
    const fromOrigin = (origin: string) => async () => {
      const { token } = await api.login('alice');
      const res = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin, authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: HISTORY }),
      });
      await res.text();
      return res.headers.get('access-control-allow-origin');
    };
    const [a, b] = await inOneSecond([fromOrigin('https://a.example'), fromOrigin('https://b.example')]);
    expect(a!.result).toBe('https://a.example');
    expect(b!.result).toBe('https://b.example');
  });

  it('answers 401 to a token revoked after its response was stored', async () => {
    const { user } = await api.login('frank');
    const [stored, revoked] = await inOneSecond([
      () => post('frank', HISTORY),
      async () => {
        await api.store.revokeTokens(user.id);
        return post('frank', HISTORY);
      },
    ]);
    expect(stored!.result.status).toBe(200);
    expect(revoked!.result.status).toBe(401);
  });
});
