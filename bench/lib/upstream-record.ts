// Reading the recording proxy of bench/lib/simulator-process.ts (SIM_RECORD=1): every upstream request with its arrival
// time and the upstream jobs it concerned (a job read, the jobs a list page showed).
import type { RecordedRequest } from './simulator-process.ts';

export type { RecordedRequest };

const PAGE_LIMIT = 1_000;

export class UpstreamRecord {
  private next = 0;
  private readonly origin: string;

  /** `proxyUrl`: the proxy's API base URL, as startSimulator({ record: true }) returns it. */
  constructor(proxyUrl: string) {
    this.origin = new URL(proxyUrl).origin;
  }

  /** The requests recorded since the previous call (all of them the first time). */
  async newRecords(): Promise<RecordedRequest[]> {
    const records: RecordedRequest[] = [];
    for (let page = 0; page < PAGE_LIMIT; page++) {
      const response = await fetch(`${this.origin}/_rec/log?from=${this.next}`, { signal: AbortSignal.timeout(10_000) });
      const body = (await response.json()) as { next: number; records: RecordedRequest[] };
      if (body.records.length === 0) break;
      records.push(...body.records);
      this.next = body.next;
    }
    return records;
  }
}

/** Whether a request looked at upstream jobs' state (a poll): a job read or a list page. */
export const isPoll = (record: RecordedRequest) => record.route === 'getJob' || record.route === 'listJobs';
