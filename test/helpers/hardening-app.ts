// A whole gateway from buildApp whose JSON log lines are captured in memory (the app's own logger, with its
// redaction and scrubbing), plus the HTTP and WebSocket clients of the API tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type App, type AppOptions, type RunningApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { Store } from '../../src/store/store.ts';
import { ApiClientBase } from './api-harness.ts';

export class CapturedGateway extends ApiClientBase {
  readonly dir = mkdtempSync(join(tmpdir(), 'hardening-'));
  /** Every line the app's logger wrote, as written. */
  readonly logLines: string[] = [];
  readonly config: Config;
  readonly app: App;
  running!: RunningApp;

  constructor(env: Record<string, string>, options: Omit<AppOptions, 'log' | 'logDestination'> = {}) {
    super();
    this.config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `file:${join(this.dir, 'gateway.db')}`,
      MEDIA_DIR: join(this.dir, 'media'),
      SIMULATOR_JOB_SECONDS: '1',
      POLL_MIN_INTERVAL_MS: '100',
      POLL_MAX_INTERVAL_MS: '500',
      LOG_LEVEL: 'debug',
      NODE_ENV: 'test',
      ...env,
    });
    this.app = buildApp(this.config, {
      engineTickMs: 50,
      ...options,
      logDestination: { write: (line: string) => void this.logLines.push(line) },
    });
  }

  static async start(env: Record<string, string> = {}, options: Omit<AppOptions, 'log' | 'logDestination'> = {}): Promise<CapturedGateway> {
    const gateway = new CapturedGateway(env, options);
    gateway.running = await gateway.app.start();
    return gateway;
  }

  get url(): string {
    return this.running.url;
  }

  protected get userStore(): Store {
    return this.running.store;
  }

  /** The captured lines, parsed. */
  logs(): Array<Record<string, any>> {
    return this.logLines.flatMap((chunk) => chunk.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l)));
  }

  async metricsText(): Promise<string> {
    const res = await fetch(`${this.url}/metrics`);
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
    return res.text();
  }

  async stop(): Promise<void> {
    await this.disposeClients();
    await this.app.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The value of one sample in Prometheus text, e.g. sample(text, 'gateway_jobs', { status: 'SUCCEEDED' }). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[3] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[4]);
  }
  return null;
}
