// The crash test's users: each creates jobs one after another over the GraphQL API with a real token, retrying the
// same idempotency key until it is answered, as a client should. With several replicas each attempt goes to the next
// one, so that a killed replica's requests are retried on the others.
import { localId } from '../../src/schema/global-id.ts';
import { GENERATE } from '../lib/gql.ts';
import { sleep } from '../lib/proc.ts';

export interface CrashUser {
  name: string;
  token: string;
  id: string;
}

export interface CreatedJob {
  key: string;
  user: string;
  globalId: string;
  localId: string;
}

export interface Clients {
  /** Every job a client got an id for. */
  readonly created: CreatedJob[];
  /** Keys that got no answer in 90 s. */
  readonly unanswered: string[];
  /** Lets each client finish the key it is on, then resolves. */
  finish(): Promise<void>;
}

const KEY_DEADLINE_MS = 90_000;

export function startClients(users: CrashUser[], urls: string[], rand: () => number): Clients {
  const created: CreatedJob[] = [];
  const unanswered: string[] = [];
  let creating = true;
  const client = async (user: CrashUser, index: number) => {
    let attempt = index;
    for (let n = 0; creating; n++) {
      const key = `${user.name}-${n}`;
      const input = {
        prompt: `crash test ${key}: a paper boat on a rainy street`,
        durationSeconds: rand() < 0.5 ? 5 : 10,
        size: rand() < 0.75 ? 'LANDSCAPE_720P' : 'PORTRAIT_720P',
        idempotencyKey: key,
      };
      const deadline = Date.now() + KEY_DEADLINE_MS;
      let answered = false;
      while (!answered && Date.now() < deadline) {
        const url = urls[attempt++ % urls.length]!;
        try {
          const response = await fetch(`${url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
            body: JSON.stringify({ query: GENERATE, variables: { input } }),
            signal: AbortSignal.timeout(10_000),
          });
          const body = (await response.json()) as { data?: { generateVideo?: { __typename: string; job?: { id: string } } } };
          const result = body.data?.generateVideo;
          if (result?.__typename === 'GenerateVideoSuccess') {
            const globalId = result.job!.id;
            created.push({ key, user: user.name, globalId, localId: localId(globalId, 'VideoJob') ?? globalId });
            answered = true;
          } else {
            // Quota (the user's jobs are still running), rate limit, or the gateway is not ready: the same key later.
            await sleep(250 + rand() * 500);
          }
        } catch {
          // Killed mid-request or not listening: the same key again, once it is back.
          await sleep(150 + rand() * 150);
        }
      }
      if (!answered) unanswered.push(key);
      await sleep(50 + rand() * 300 + index * 10);
    }
  };
  const running = users.map((user, index) => client(user, index));
  return {
    created,
    unanswered,
    finish() {
      creating = false;
      return Promise.allSettled(running).then(() => undefined);
    },
  };
}
