// The fan-out measurement shared by the fanout scenarios: every open connection of the load generator
// (bench/lib/ws-clients.ts) subscribes to a PENDING job, which is then canceled over HTTP; each subscriber's latency
// runs from the commit (the job's `updatedAt`, stamped by the store in the transaction) to the message's arrival in
// the client process (one machine, one clock). The first job is a warm-up, not counted.
//
// Jobs are canceled newest first, so no other waiting job changes its queue position (which would publish more
// updates) while a figure is measured.
import { cancel } from './gql.ts';
import { sleep, type Child } from './proc.ts';
import type { Figure } from './report.ts';
import { median, quantile } from './stats.ts';
import { JOB_UPDATED } from './subscription-setup.ts';

export interface FanoutRun {
  p50: number;
  p99: number;
  last: number;
  received: number;
  expected: number;
  /** From the cancel mutation leaving the bench to the last arrival. */
  fromMutationMs: number;
  /** The same per connection tag (as given to `open`), when the connections were tagged. */
  byTag: Record<string, { p99: number; last: number; received: number }>;
  /** CPU (ms) each of `cpuOf` used from just before the cancel to the last arrival: the cost of one fan-out. */
  cpuMs: number[];
}

interface Collected {
  received: number;
  expected: number;
  latencies: number[];
  byTag?: Record<string, number[]>;
}

export interface FanoutRunsOptions {
  clients: Child;
  token: string;
  /** Jobs in the order they are canceled, the warm-up first; every connection was opened subscribed to the first. */
  jobIds: readonly string[];
  /** The gateway the cancel of run `run` (0 = warm-up) is sent to. */
  cancelUrl: (run: number) => string;
  log: (message: string) => void;
  /** Gateway processes (bench/lib/gateway-process.ts) whose CPU each fan-out is charged to. */
  cpuOf?: readonly Child[];
}

const cpuTimes = (children: readonly Child[]) =>
  Promise.all(children.map((child) => child.request<{ userMs: number; systemMs: number }>('cpu').then((c) => c.userMs + c.systemMs)));

export async function measureFanoutRuns(options: FanoutRunsOptions): Promise<FanoutRun[]> {
  const { clients, token, jobIds } = options;
  const runs: FanoutRun[] = [];
  for (let run = 0; run < jobIds.length; run++) {
    const opId = run === 0 ? 's0' : `f${run}`;
    if (run > 0) {
      const subscribed = await clients.request<{ ready: number; failed: number; ms: number }>(
        'subscribe',
        { opId, query: JOB_UPDATED, variables: { id: jobIds[run] }, timeoutMs: 60_000 },
        300_000,
      );
      if (subscribed.failed) options.log(`${subscribed.failed} subscriptions failed`);
    }
    await clients.request('arm', { opId, status: 'CANCELED' });
    await sleep(1000); // let the subscription storm settle
    const cpuBefore = await cpuTimes(options.cpuOf ?? []);
    const sentAt = Date.now();
    const canceled = await cancel(options.cancelUrl(run), token, jobIds[run]!);
    const collected = await clients.request<Collected>('collect', { opId, timeoutMs: 30_000 }, 60_000);
    const cpuAfter = await cpuTimes(options.cpuOf ?? []);
    const committedAt = Date.parse(canceled.updatedAt);
    const lat = collected.latencies;
    const result: FanoutRun = {
      p50: quantile(lat, 0.5),
      p99: quantile(lat, 0.99),
      last: Math.max(...lat),
      received: collected.received,
      expected: collected.expected,
      fromMutationMs: committedAt + Math.max(...lat) - sentAt,
      byTag: Object.fromEntries(
        Object.entries(collected.byTag ?? {}).map(([tag, values]) => [tag, { p99: quantile(values, 0.99), last: Math.max(...values), received: values.length }]),
      ),
      cpuMs: cpuAfter.map((ms, i) => Math.round(ms - cpuBefore[i]!)),
    };
    options.log(
      `${run === 0 ? 'warm-up' : `run ${run}`}: ${result.received}/${result.expected} delivered; p50 ${result.p50} ms, p99 ${result.p99} ms, last ${result.last} ms after the commit` +
        (result.cpuMs.length ? `; gateway CPU ${result.cpuMs.join(' + ')} ms` : ''),
    );
    if (run > 0) runs.push(result);
  }
  return runs;
}

/** The p99 and last-delivery figures of fan-out runs (medians over runs), against a goal of `goalMs` each. */
export function fanoutFigures(runs: readonly FanoutRun[], options: { subscribers: number; where?: string; goalMs: number; baseline?: string }): Figure[] {
  const p99 = median(runs.map((r) => r.p99));
  const last = median(runs.map((r) => r.last));
  const complete = runs.length > 0 && runs.every((r) => r.received === r.expected && r.expected >= options.subscribers);
  const where = options.where ?? '';
  const extra = options.baseline ? `; ${options.baseline}` : '';
  return [
    {
      measure: `one update → ${options.subscribers} jobUpdated subscribers${where}: p99 delivery after commit`,
      value: p99,
      unit: 'ms',
      baseline: `p50 ${median(runs.map((r) => r.p50))} ms; ${median(runs.map((r) => r.received))}/${median(runs.map((r) => r.expected))} delivered${extra}`,
      goal: `≤ ${options.goalMs} ms`,
      met: p99 <= options.goalMs && complete,
      runs: runs.map((r) => r.p99),
    },
    {
      measure: `one update → ${options.subscribers} subscribers${where}: time to last delivery after commit`,
      value: last,
      unit: 'ms',
      baseline: `from the cancel mutation leaving the client: ${Math.round(median(runs.map((r) => r.fromMutationMs)))} ms`,
      goal: `≤ ${options.goalMs} ms`,
      met: last <= options.goalMs && complete,
      runs: runs.map((r) => r.last),
    },
  ];
}
