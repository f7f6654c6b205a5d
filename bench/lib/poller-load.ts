// Jobs in flight for the poller-cost scenarios, and what they cost: gateways' CPU over one window (each process's own
// `cpuUsage`, through the bench gateway's IPC channel) and the requests the simulator received.
import { generate, gqlData } from './gql.ts';
import { sleep, type Child } from './proc.ts';

interface Cpu {
  userMs: number;
  systemMs: number;
  at: number;
}

/** Each process's CPU over the same window, as a share of one core. */
export async function cpuShares(children: readonly Child[], windowMs: number): Promise<number[]> {
  const read = () => Promise.all(children.map((child) => child.request<Cpu>('cpu')));
  const before = await read();
  await sleep(windowMs);
  const after = await read();
  return after.map((b, i) => (b.userMs + b.systemMs - before[i]!.userMs - before[i]!.systemMs) / (b.at - before[i]!.at));
}

/** Every request the simulator has answered (or hung, or dropped) so far, all routes. */
export async function upstreamRequestCount(simulatorUrl: string): Promise<number> {
  const stats = (await (await fetch(`${new URL(simulatorUrl).origin}/_sim/stats`)).json()) as { requests: Record<string, Record<string, number>> };
  return Object.values(stats.requests).reduce((sum, byStatus) => sum + Object.values(byStatus).reduce((s, n) => s + n, 0), 0);
}

/** Creates numbered jobs over GraphQL, 8 at a time, sent to the gateways in turn. */
export class JobCreator {
  private next = 0;

  constructor(
    private readonly urls: readonly string[],
    private readonly token: string,
    private readonly label: string,
  ) {}

  /** Creates jobs until `total` exist. */
  async upTo(total: number): Promise<void> {
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (this.next < total) {
          const i = this.next++;
          await generate(this.urls[i % this.urls.length]!, this.token, { prompt: `${this.label} ${i}`, durationSeconds: i % 2 ? 5 : 10 });
        }
      }),
    );
  }
}

/** The user's jobs QUEUED or IN_PROGRESS (submitted and followed). */
export const jobsInFlight = (url: string, token: string) =>
  gqlData<{ videoJobs: { totalCount: number } }>(url, token, 'query { videoJobs(first: 1, filter: { status: [QUEUED, IN_PROGRESS] }) { totalCount } }').then(
    (d) => d.videoJobs.totalCount,
  );

/** The upstream requests a gateway made so far, by route, from its /metrics (each replica counts its own). */
export async function upstreamRequestsByRoute(gatewayUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${gatewayUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const byRoute: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^gateway_upstream_requests_total\{([^}]*)\} ([0-9.e+]+)$/.exec(line);
    const route = match && /route="([^"]+)"/.exec(match[1]!)?.[1];
    if (route) byRoute[route] = (byRoute[route] ?? 0) + Number(match[2]);
  }
  return byRoute;
}
