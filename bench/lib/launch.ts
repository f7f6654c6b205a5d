// Starting the processes the scenarios measure: the gateway (bench/lib/gateway-process.ts), the simulator alone
// (bench/lib/simulator-process.ts), the hello baseline and the subscription load generator.
import { Child, spawnNode, LOAD_CORE, SERVER_CORE } from './proc.ts';

export interface StartedGateway {
  child: Child;
  url: string;
  upstreamUrl: string;
  bootstrapToken: string | null;
}

export interface GatewayOptions {
  env: Record<string, string>;
  core?: number | null;
  nodeArgs?: string[];
  timeoutMs?: number;
}

/** The gateway with production-like settings unless `env` says otherwise. */
export async function startGateway(options: GatewayOptions): Promise<StartedGateway> {
  const child = spawnNode('bench/lib/gateway-process.ts', [], {
    env: { PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'production', LOG_LEVEL: 'warn', ...options.env },
    core: options.core === undefined ? SERVER_CORE : options.core,
    // BENCH_CPU_PROF=<dir>: every gateway a scenario starts writes a V8 CPU profile there when it stops
    // (summarise one with `npx tsx bench/lib/cpuprofile.ts <file>`).
    nodeArgs: ['--expose-gc', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), ...(options.nodeArgs ?? [])],
    ipc: true,
  });
  try {
    const ready = await child.waitForMessage<{ url: string; upstreamUrl: string; bootstrapToken: string | null }>(
      (m) => m?.type === 'ready',
      options.timeoutMs ?? 60_000,
      'gateway ready',
    );
    return { child, url: ready.url, upstreamUrl: ready.upstreamUrl, bootstrapToken: ready.bootstrapToken };
  } catch (error) {
    child.signal('SIGKILL');
    throw error;
  }
}

export interface StartedSimulator {
  child: Child;
  /** The simulator's API base URL. */
  url: string;
  /** The recording proxy's API base URL, when asked for. */
  proxyUrl: string | null;
}

export async function startSimulator(options: { jobSeconds: number; concurrency: number; record?: boolean; core?: number | null }): Promise<StartedSimulator> {
  const child = spawnNode('bench/lib/simulator-process.ts', [], {
    env: { SIM_JOB_SECONDS: String(options.jobSeconds), SIM_CONCURRENCY: String(options.concurrency), SIM_RECORD: options.record ? '1' : '0' },
    core: options.core === undefined ? LOAD_CORE : options.core,
    ipc: true,
  });
  try {
    const line = await child.waitForOutput(/\{"simulator":"([^"]+)","proxy":(null|"[^"]+")\}/, 30_000, 'simulator ready');
    return { child, url: line[1]!, proxyUrl: line[2] === 'null' ? null : JSON.parse(line[2]!) };
  } catch (error) {
    child.signal('SIGKILL');
    throw error;
  }
}

export async function startHello(core: number | null = SERVER_CORE): Promise<{ child: Child; url: string }> {
  const child = spawnNode('bench/lib/hello-server.ts', [], { core, ipc: true });
  const line = await child.waitForOutput(/\{"url":"([^"]+)"\}/, 30_000, 'hello server ready');
  return { child, url: line[1]! };
}

/** The subscription load generator (bench/lib/ws-clients.ts). */
export async function startWsClients(core: number | null = LOAD_CORE): Promise<Child> {
  const child = spawnNode('bench/lib/ws-clients.ts', [], { core, ipc: true, nodeArgs: ['--max-old-space-size=2048'] });
  await child.waitForMessage((m) => m?.type === 'ready', 30_000, 'ws clients ready');
  return child;
}
