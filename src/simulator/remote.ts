// Drives a simulator running in another process (`npm run simulator`) through its /_sim/ control endpoints,
// with the same vocabulary as the in-process `simulator.faults` and `simulator.stats`.
import type { Fault, FaultRoute } from './faults.ts';
import type { SimulatorStats } from './stats.ts';

export class RemoteSimulator {
  readonly #origin: string;

  /** `url`: the simulator's API base URL (`http://127.0.0.1:4010/v1`) or its origin. */
  constructor(url: string) {
    this.#origin = new URL(url).origin;
  }

  respondWith(route: FaultRoute, options: { status: number; count?: number; body?: unknown; retryAfterSeconds?: number; headers?: Record<string, string> }) {
    return this.#addFault({ type: 'respond', ...options }, route, options.count);
  }

  dropConnection(route: FaultRoute, options: { when: 'before' | 'after'; count?: number }) {
    return this.#addFault({ type: 'drop', when: options.when }, route, options.count);
  }

  hang(route: FaultRoute, options: { count?: number } = {}) {
    return this.#addFault({ type: 'hang' }, route, options.count);
  }

  truncateBody(route: FaultRoute, options: { count?: number } = {}) {
    return this.#addFault({ type: 'truncate' }, route, options.count);
  }

  expireAssetUrls() {
    return this.#post('/_sim/expire-asset-urls');
  }

  resetFaults() {
    return this.#post('/_sim/faults/reset');
  }

  /** Forgets faults, stats, jobs, uploads and assets. */
  reset() {
    return this.#post('/_sim/reset');
  }

  async stats(): Promise<SimulatorStats> {
    const response = await fetch(`${this.#origin}/_sim/stats`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`simulator stats: HTTP ${response.status}`);
    return (await response.json()) as SimulatorStats;
  }

  #addFault(fault: Fault, route: FaultRoute, count: number | undefined) {
    return this.#post('/_sim/faults', { ...fault, route, count });
  }

  async #post(path: string, body?: unknown): Promise<void> {
    const response = await fetch(`${this.#origin}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) throw new Error(`simulator ${path}: HTTP ${response.status} ${await response.text()}`);
  }
}
