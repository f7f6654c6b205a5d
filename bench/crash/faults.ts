// Upstream faults queued at random between kills: a submit whose connection drops after upstream took the job (the
// job stays `submitting` until reconciled), a cut download and a 503 on an asset read (it stays `mirroring` while the
// retries back off). They keep jobs in the short-lived phases long enough for kills to land there, and exercise
// reconciliation and temp-file cleanup under kills.
import { RemoteSimulator } from '../../src/simulator/remote.ts';

export class UpstreamFaults {
  /** Queued so far, by kind. */
  readonly queued: Record<string, number> = { 'submit dropped after processing': 0, 'download cut': 0, 'asset read 503': 0 };
  private readonly upstream: RemoteSimulator;

  constructor(
    simulatorUrl: string,
    private readonly rand: () => number,
    private readonly enabled: boolean,
  ) {
    this.upstream = new RemoteSimulator(simulatorUrl);
  }

  async queue(): Promise<void> {
    if (!this.enabled) return;
    if (this.rand() < 0.3) {
      await this.upstream.dropConnection('submit', { when: 'after', count: 1 });
      this.queued['submit dropped after processing']!++;
    }
    if (this.rand() < 0.3) {
      await this.upstream.truncateBody('download', { count: 1 });
      this.queued['download cut']!++;
    }
    if (this.rand() < 0.2) {
      await this.upstream.respondWith('getAsset', { status: 503, count: 1 });
      this.queued['asset read 503']!++;
    }
  }

  /** Forgets the faults not yet applied (before the drain). */
  reset(): Promise<void> {
    return this.upstream.resetFaults();
  }
}
