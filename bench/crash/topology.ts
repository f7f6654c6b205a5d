// The gateway processes of a crash test and the database they share. SQLite: one process (a second one on the file
// would refuse to start). PostgreSQL: several replicas (CONTRACT §9) on a database created for the run, with a Redis
// key prefix of their own and one MEDIA_DIR (same machine); both are dropped at the end unless kept. Each gateway
// keeps its port and its INSTANCE_ID across restarts, as a deployment with named replicas does, so that clients find
// it again and its leases name the same replica before and after.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VideoJob } from '../../src/domain/video-job.ts';
import { openStore } from '../../src/store/open.ts';
import { DEFAULT_LEASE_MS, type Store } from '../../src/store/store.ts';
import { createBacking } from '../lib/backing.ts';
import { freePort, sleep, spawnNode, type Child } from '../lib/proc.ts';

export type StoreKind = 'sqlite' | 'postgres';

const MAX_ACTIVE_PER_USER = 3;
const LOG_TAIL_CHARS = 3000;

/** One run of a gateway process: from its spawn to its end (kill or stop). */
export interface GatewayLife {
  spawnedAt: number;
  endedAt: number | null;
}

/** One gateway: a replica slot whose process is killed and restarted; the port and INSTANCE_ID stay. */
export class Gateway {
  child: Child;
  life: GatewayLife;
  /** Output of the earlier lives, for the tail shown when the run fails. */
  private pastLogs = '';
  private starts = 0;

  constructor(
    /** `gateway` for the single SQLite process, else the replica's INSTANCE_ID. */
    readonly name: string,
    /** Null for the single SQLite process: it draws a random one at each start, as `npm start` does. */
    readonly instanceId: string | null,
    readonly url: string,
    private readonly env: Record<string, string>,
    /** Where each life's log is written when the run is kept. */
    private readonly logDir: string | null,
  ) {
    [this.child, this.life] = this.launch();
  }

  restart(): void {
    [this.child, this.life] = this.launch();
  }

  async waitReady(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.child.alive) {
      if (await this.isReady()) return true;
      await sleep(25);
    }
    return false;
  }

  async isReady(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false;
    }
  }

  /**
   * Whether `job`'s lease was taken by this life of the gateway: a lease of an earlier life (same INSTANCE_ID) ends at
   * most DEFAULT_LEASE_MS after that life's last renewal, which was before this life began.
   */
  leasedByThisLife(job: VideoJob): boolean {
    return this.instanceId !== null && job.leaseOwner === this.instanceId && (job.leaseExpiresAt ?? 0) > this.life.spawnedAt + DEFAULT_LEASE_MS;
  }

  async kill(): Promise<void> {
    this.child.signal('SIGKILL');
    await this.child.exited;
    this.life.endedAt = Date.now();
  }

  async stop(): Promise<void> {
    await this.child.stop('SIGTERM', 15_000);
    this.life.endedAt = Date.now();
  }

  logTail(): string {
    return `--- ${this.name} log tail ---\n${(this.pastLogs + this.child.stdout + this.child.stderr).slice(-LOG_TAIL_CHARS)}`;
  }

  private launch(): [Child, GatewayLife] {
    // The real entry point, in one process (`node --import tsx src/main.ts`, what `npm start` runs behind npm and
    // tsx), so that SIGKILL hits the gateway itself.
    const env = { ...this.env, PORT: new URL(this.url).port, ...(this.instanceId === null ? {} : { INSTANCE_ID: this.instanceId }) };
    const child = spawnNode('src/main.ts', [], { env, core: null });
    const number = ++this.starts;
    void child.exited.then(({ signal }) => {
      this.pastLogs = (this.pastLogs + child.stdout + child.stderr).slice(-200_000);
      if (this.logDir !== null) {
        writeFileSync(join(this.logDir, `${this.name}-${String(number).padStart(2, '0')}.log`), `${child.stdout}${child.stderr}\n(exit: ${signal ?? 'code'})\n`);
      }
    });
    return [child, { spawnedAt: Date.now(), endedAt: null }];
  }
}

export interface TopologyOptions {
  store: StoreKind;
  replicas: number;
  /** The run's directory: the SQLite file, the media and, when kept, the logs. */
  dir: string;
  /** Keep the PostgreSQL database, the Redis keys and every process log. */
  keep: boolean;
  log: (line: string) => void;
}

export interface Topology {
  readonly mediaDir: string;
  readonly gateways: Gateway[];
  /** The shared database, opened as the token CLI opens it: no replica lock, and it never takes a lease. */
  readonly reader: Store;
  /** Spawns every gateway against `upstreamUrl` and waits until each is ready. */
  start(upstreamUrl: string): Promise<void>;
  /** SIGTERM to every gateway, as an operator stops them. */
  stop(): Promise<void>;
  logTail(): string;
  /** Kills what still runs, closes the reader and drops the database and Redis keys (unless kept). */
  close(): Promise<void>;
}

interface Backing {
  databaseUrl: string;
  env: Record<string, string>;
  drop(): Promise<void>;
}

export async function openTopology(options: TopologyOptions): Promise<Topology> {
  if (options.store === 'sqlite' && options.replicas !== 1) throw new Error('SQLite runs as one process: --replicas needs --store postgres');
  const backing = options.store === 'sqlite' ? { databaseUrl: `file:${join(options.dir, 'gateway.db')}`, env: {}, drop: async () => {} } : await postgresBacking(options);
  const mediaDir = join(options.dir, 'media');
  // Opened before any gateway starts: it applies the migrations, and the users are created through it.
  const reader = await openStore(backing.databaseUrl, { instanceId: 'crashtest-reader' }).catch(async (error: unknown) => {
    await backing.drop();
    throw error;
  });
  const gateways: Gateway[] = [];
  return {
    mediaDir,
    gateways,
    reader,
    async start(upstreamUrl) {
      const env = {
        HOST: '127.0.0.1',
        DATABASE_URL: backing.databaseUrl,
        MEDIA_DIR: mediaDir,
        SCENARIO_API_URL: upstreamUrl,
        SCENARIO_SDK_API_KEY: 'crash-test-key',
        SCENARIO_SDK_API_SECRET: 'crash-test-secret',
        UPSTREAM_MAX_IN_FLIGHT: '5',
        MAX_ACTIVE_JOBS_PER_USER: String(MAX_ACTIVE_PER_USER),
        GENERATE_RATE_LIMIT_PER_MINUTE: '1000',
        LOG_LEVEL: 'info',
        NODE_ENV: 'production',
        ...backing.env,
      };
      const logDir = options.keep ? options.dir : null;
      for (let index = 0; index < options.replicas; index++) {
        const url = `http://127.0.0.1:${await freePort()}`;
        const instanceId = options.store === 'sqlite' ? null : `crash-replica-${index}`;
        gateways.push(new Gateway(instanceId ?? 'gateway', instanceId, url, env, logDir));
      }
      // Started side by side, as replicas may be (CONTRACT §9); the reader has applied the migrations already.
      const ready = await Promise.all(gateways.map((gateway) => gateway.waitReady(30_000)));
      const failed = gateways.filter((_, index) => !ready[index]);
      if (failed.length > 0) throw new Error(`${failed.map((g) => g.name).join(', ')} did not start\n${failed.map((g) => g.child.tail()).join('\n')}`);
    },
    async stop() {
      await Promise.all(gateways.map((gateway) => gateway.stop()));
    },
    logTail() {
      return gateways.map((gateway) => gateway.logTail()).join('\n');
    },
    async close() {
      for (const gateway of gateways) if (gateway.child.alive) gateway.child.signal('SIGKILL');
      await Promise.all(gateways.map((gateway) => gateway.child.exited));
      await reader.close();
      if (!options.keep) await backing.drop();
    },
  };
}

/** A fresh database and Redis key prefix of the run's own (bench/lib/backing.ts), kept at the end when asked. */
async function postgresBacking(options: TopologyOptions): Promise<Backing> {
  const backing = await createBacking('crashtest');
  if (options.keep) options.log(`kept at the end: PostgreSQL database ${backing.database}, Redis keys under "${backing.keyPrefix}"`);
  return backing;
}
