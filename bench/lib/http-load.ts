// One autocannon run (in this process, which the bench pins to the load core) and the figures kept from it.
import autocannon from 'autocannon';

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  errors: number;
  non2xx: number;
}

export async function load(options: { url: string; body: string; token?: string; connections: number; seconds: number }): Promise<LoadResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const result = await autocannon({
    url: options.url,
    method: 'POST',
    headers,
    body: options.body,
    connections: options.connections,
    duration: options.seconds,
    timeout: 10,
  });
  return {
    // Completed 2xx requests over the run's real duration: errors do not count as throughput.
    requestsPerSecond: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
