// Shared by the subscribers and fanout scenarios: a gateway whose jobs stay PENDING until the bench cancels them
// (one upstream slot, held by a simulated job that never ends), a user with a real token, and the load generator.
import { join } from 'node:path';
import { createTokenFor } from '../../src/auth/tokens.ts';
import { openSqliteStore } from '../../src/store/sqlite/open.ts';
import { generate, gqlData } from './gql.ts';
import { startGateway, type StartedGateway } from './launch.ts';
import { waitUntil } from './proc.ts';

export const JOB_UPDATED = `subscription Watch($id: ID!) { jobUpdated(id: $id) { id version status progress queuePosition updatedAt } }`;

export interface HeldJobsGateway {
  gateway: StartedGateway;
  token: string;
  wsUrl: string;
}

export async function startHeldJobsGateway(dir: string): Promise<HeldJobsGateway> {
  const databaseUrl = `file:${join(dir, 'gateway.db')}`;
  const store = await openSqliteStore(databaseUrl);
  const { token } = await createTokenFor(store, 'bench');
  await store.close();
  const gateway = await startGateway({
    env: {
      DATABASE_URL: databaseUrl,
      MEDIA_DIR: join(dir, 'media'),
      ...HELD_JOBS_ENV,
      SIMULATOR_JOB_SECONDS: '3600',
    },
  });
  await holdTheOnlyUpstreamSlot(gateway.url, token);
  return { gateway, token, wsUrl: wsUrlOf(gateway.url) };
}

/** One upstream slot gateway-wide and no limit on waiting jobs: see holdTheOnlyUpstreamSlot. */
export const HELD_JOBS_ENV: Record<string, string> = {
  UPSTREAM_MAX_IN_FLIGHT: '1',
  MAX_ACTIVE_JOBS_PER_USER: '100000',
  GENERATE_RATE_LIMIT_PER_MINUTE: '100000',
};

/** The one upstream slot goes to a job that never ends; every later job waits, PENDING, until canceled. */
export async function holdTheOnlyUpstreamSlot(url: string, token: string): Promise<void> {
  const holder = await generate(url, token, { prompt: 'hold the only upstream slot [sim:never]', durationSeconds: 5 });
  await waitUntil(
    async () => {
      const data = await gqlData<{ videoJob: { status: string } }>(url, token, 'query($id: ID!) { videoJob(id: $id) { status } }', { id: holder });
      return data.videoJob.status !== 'PENDING';
    },
    30_000,
    'the slot holder to be submitted',
  );
}

export const wsUrlOf = (gatewayUrl: string) => `${gatewayUrl.replace(/^http/, 'ws')}/graphql`;

/** Creates `count` PENDING jobs; returns their global ids in creation order. */
export async function createWaitingJobs(url: string, token: string, count: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await generate(url, token, { prompt: `${label} ${i}`, durationSeconds: 5 }));
  return ids;
}
