// Gateway replicas on one backing (bench/lib/backing.ts), each a bench gateway process (bench/lib/gateway-process.ts)
// with its own INSTANCE_ID, against one upstream shared by all of them: a job submitted by one replica is polled by
// whichever replica claims it, so they must all talk to the same simulator, never to one built into each.
import { join } from 'node:path';
import { createTokenFor } from '../../src/auth/tokens.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/store.ts';
import type { Backing } from './backing.ts';
import { startGateway, type StartedGateway } from './launch.ts';
import { SERVER_CORE } from './proc.ts';

/** The LIVE-mode variables that point a gateway at a simulator process. */
export function upstreamEnv(apiUrl: string): Record<string, string> {
  return { SCENARIO_API_URL: apiUrl, SCENARIO_SDK_API_KEY: 'bench-key', SCENARIO_SDK_API_SECRET: 'bench-secret' };
}

export interface ReplicaOptions {
  backing: Backing;
  /** INSTANCE_IDs, one replica each. */
  names: readonly string[];
  /** The scenario's variables (upstream, limits); the backing's and the replica's own are added. */
  env: Record<string, string>;
  /** One MEDIA_DIR for all, as replicas on one machine share it. */
  mediaDir: string;
  core?: number | null;
}

export interface Replica extends StartedGateway {
  name: string;
}

/** Starts the replicas side by side (migrations are applied under the database lock); kills them all if one fails. */
export async function startReplicas(options: ReplicaOptions): Promise<Replica[]> {
  const started = await Promise.allSettled(
    options.names.map(async (name) => {
      const gateway = await startGateway({
        env: { LOG_LEVEL: 'info', MEDIA_DIR: options.mediaDir, ...options.env, ...options.backing.env, INSTANCE_ID: name },
        core: options.core === undefined ? SERVER_CORE : options.core,
      });
      return { ...gateway, name };
    }),
  );
  const replicas = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stopReplicas(replicas);
    throw failed.reason;
  }
  return replicas;
}

export async function stopReplicas(replicas: readonly Replica[]): Promise<void> {
  await Promise.all(replicas.map((replica) => replica.child.stop()));
}

export interface ReplicaDatabase {
  /** The shared database opened as the token CLI opens it: no replica lock, and it never takes a lease. */
  reader: Store;
  token: string;
  userId: string;
  mediaDir: string;
}

/** Migrates the backing's database and creates the bench user with a token, before any replica starts. */
export async function prepareReplicaDatabase(backing: Backing, dir: string): Promise<ReplicaDatabase> {
  const reader = await openStore(backing.databaseUrl, { instanceId: 'bench-reader' });
  try {
    const { user, token } = await createTokenFor(reader, 'bench');
    return { reader, token, userId: user.id, mediaDir: join(dir, 'media') };
  } catch (error) {
    await reader.close();
    throw error;
  }
}
