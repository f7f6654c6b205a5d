// Prometheus metrics (prom-client) for /metrics. One registry per app, so several gateways in one process (tests)
// do not share counters. Gauges that describe state (jobs by status, sockets, subscriptions) are read when scraped;
// the rest are counted as things happen. Labels take only values from small fixed sets: never an id, a path or a URL.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { JOB_STATUSES, type JobStatus } from '../domain/video-job.ts';
import { SCENARIO_ROUTES } from '../scenario/client.ts';

export interface MetricsSources {
  /** Jobs per status, read from the database at scrape time. */
  countJobsByStatus(): Promise<Partial<Record<JobStatus, number>>>;
  /** Live subscriptions (graphql-ws and SSE): listeners on the job event bus. */
  activeSubscriptions(): number;
  /** Open graphql-ws connections. */
  activeWebSockets(): number;
  /** HTTP requests being answered (SSE streams included). */
  inFlightRequests(): number;
  /** Replicas whose heartbeat in the database is recent (this one included). */
  liveReplicas(): Promise<number>;
  /** Engine leases this replica holds now. */
  leasesHeld(): Promise<number>;
  /** The Redis connection ('off' without REDIS_URL). */
  redisState(): RedisState;
  /** This replica's INSTANCE_ID. */
  instanceId: string;
}

export const REDIS_STATES = ['ready', 'connecting', 'down', 'off'] as const;
export type RedisState = (typeof REDIS_STATES)[number];

export type HttpRoute = 'graphql' | 'media' | 'healthz' | 'readyz' | 'metrics' | 'studio' | 'other';
export type OperationType = 'query' | 'mutation' | 'subscription' | 'none';

const UPSTREAM_ROUTES = new Set<string>(SCENARIO_ROUTES);
const UPSTREAM_OUTCOMES = new Set(['2xx', '3xx', '4xx', '429', '5xx', 'timeout', 'network', 'invalid', 'error', 'refused', 'reset']);

export const METRIC_NAMES = {
  jobs: 'gateway_jobs',
  upstreamRequests: 'gateway_upstream_requests_total',
  upstreamDuration: 'gateway_upstream_request_duration_seconds',
  pollLag: 'gateway_poll_lag_seconds',
  mirrorBytes: 'gateway_mirror_bytes_total',
  subscriptions: 'gateway_active_subscriptions',
  webSockets: 'gateway_active_websockets',
  inFlight: 'gateway_http_requests_in_flight',
  httpDuration: 'gateway_http_request_duration_seconds',
  responseCache: 'gateway_response_cache_requests_total',
  instance: 'gateway_instance_info',
  liveReplicas: 'gateway_replicas_live',
  leases: 'gateway_leases_held',
  redis: 'gateway_redis_connection',
} as const;

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly upstreamRequests: Counter<'route' | 'outcome'>;
  private readonly upstreamDuration: Histogram<'route' | 'outcome'>;
  private readonly pollLag: Histogram<string>;
  private readonly mirrorBytes: Counter<'kind'>;
  private readonly httpDuration: Histogram<'route' | 'operation_type' | 'status_code'>;
  private readonly responseCache: Counter<'outcome'>;

  constructor(sources: MetricsSources, options: { onCollectError?: (error: unknown) => void } = {}) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    /** A gauge read from the database when scraped; a failing read (closed database: /readyz says so) keeps the last value. */
    const fromDatabase = <Label extends string>(
      config: { name: string; help: string; labelNames?: Label[] },
      read: (gauge: Gauge<Label>) => Promise<void>,
    ) =>
      new Gauge<Label>({
        ...config,
        labelNames: config.labelNames ?? [],
        registers,
        async collect() {
          await read(this).catch((error: unknown) => options.onCollectError?.(error));
        },
      });
    fromDatabase({ name: METRIC_NAMES.jobs, help: 'Jobs in the database by status (deleted jobs excluded).', labelNames: ['status'] }, async (gauge) => {
      const counts = await sources.countJobsByStatus();
      for (const status of JOB_STATUSES) gauge.set({ status }, counts[status] ?? 0);
    });
    fromDatabase({ name: METRIC_NAMES.liveReplicas, help: 'Gateway replicas with a recent heartbeat in the database.' }, async (gauge) => {
      gauge.set(await sources.liveReplicas());
    });
    fromDatabase({ name: METRIC_NAMES.leases, help: 'Job leases this replica holds (engine steps running on it).' }, async (gauge) => {
      gauge.set(await sources.leasesHeld());
    });
    new Gauge({
      name: METRIC_NAMES.instance,
      help: "This replica's INSTANCE_ID, as a label of a gauge that is always 1.",
      labelNames: ['instance_id'],
      registers,
    }).set({ instance_id: sources.instanceId }, 1);
    new Gauge({
      name: METRIC_NAMES.redis,
      help: 'The Redis connection: 1 for its current state (ready, connecting, down; off without REDIS_URL), 0 for the others.',
      labelNames: ['state'],
      registers,
      collect() {
        const current = sources.redisState();
        for (const state of REDIS_STATES) this.set({ state }, state === current ? 1 : 0);
      },
    });
    this.upstreamRequests = new Counter({
      name: METRIC_NAMES.upstreamRequests,
      help: 'Requests to Scenario by route and outcome (2xx, 4xx, 429, 5xx, timeout, network, invalid, error).',
      labelNames: ['route', 'outcome'],
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: METRIC_NAMES.upstreamDuration,
      help: 'Latency of requests to Scenario, body included (downloads: the whole file).',
      labelNames: ['route', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.pollLag = new Histogram({
      name: METRIC_NAMES.pollLag,
      help: "How late the poller looked at a followed job, after the time the job's schedule set for its next check.",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    });
    this.mirrorBytes = new Counter({
      name: METRIC_NAMES.mirrorBytes,
      help: 'Bytes of finished outputs copied into MEDIA_DIR (kind: video or thumbnail).',
      labelNames: ['kind'],
      registers,
    });
    new Gauge({
      name: METRIC_NAMES.subscriptions,
      help: 'Live subscriptions (graphql-ws and SSE).',
      registers,
      collect() {
        this.set(sources.activeSubscriptions());
      },
    });
    new Gauge({
      name: METRIC_NAMES.webSockets,
      help: 'Open graphql-ws connections.',
      registers,
      collect() {
        this.set(sources.activeWebSockets());
      },
    });
    new Gauge({
      name: METRIC_NAMES.inFlight,
      help: 'HTTP requests being answered, open SSE streams included.',
      registers,
      collect() {
        this.set(sources.inFlightRequests());
      },
    });
    this.httpDuration = new Histogram({
      name: METRIC_NAMES.httpDuration,
      help: 'HTTP request latency by route, GraphQL operation type (none outside GraphQL or before parsing) and status code. SSE subscriptions last as long as their stream.',
      labelNames: ['route', 'operation_type', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.responseCache = new Counter({
      name: METRIC_NAMES.responseCache,
      help: 'JSON POSTs to /graphql by response cache outcome: hit, shared (waited for an identical request executing), miss.',
      labelNames: ['outcome'],
      registers,
    });
  }

  observeResponseCache = (outcome: 'hit' | 'shared' | 'miss'): void => {
    this.responseCache.inc({ outcome });
  };

  /** The Scenario client's observer (src/scenario/client.ts). */
  observeUpstream = (event: { route: string; outcome: string; durationMs: number }): void => {
    const route = UPSTREAM_ROUTES.has(event.route) ? event.route : 'other';
    const outcome = UPSTREAM_OUTCOMES.has(event.outcome) ? event.outcome : 'other';
    this.upstreamRequests.inc({ route, outcome });
    this.upstreamDuration.observe({ route, outcome }, event.durationMs / 1000);
  };

  observePollLag = (lagMs: number): void => {
    this.pollLag.observe(Math.max(0, lagMs) / 1000);
  };

  addMirrorBytes(kind: 'video' | 'thumbnail', bytes: number): void {
    this.mirrorBytes.inc({ kind }, bytes);
  }

  observeHttp(route: HttpRoute, operationType: OperationType, statusCode: number, seconds: number): void {
    this.httpDuration.observe({ route, operation_type: operationType, status_code: String(statusCode) }, seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
