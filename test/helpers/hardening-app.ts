// A whole gateway from buildApp whose JSON log lines are captured in memory (the app's own logger, with its
// redaction and scrubbing), plus the HTTP and WebSocket clients of the API tests.
import type { AppOptions } from '../../src/app.ts';
import { Gateway } from './api-harness.ts';

export class CapturedGateway extends Gateway {
  /** Every line the app's logger wrote, as written. */
  readonly logLines: string[];

  constructor(env: Record<string, string>, options: Omit<AppOptions, 'log' | 'logDestination'> = {}) {
    const lines: string[] = [];
    super({ LOG_LEVEL: 'debug', ...env }, { ...options, logDestination: { write: (line: string) => void lines.push(line) } });
    this.logLines = lines;
  }

  static override async start(env: Record<string, string> = {}, options: Omit<AppOptions, 'log' | 'logDestination'> = {}): Promise<CapturedGateway> {
    const gateway = new CapturedGateway(env, options);
    gateway.running = await gateway.app.start();
    return gateway;
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
