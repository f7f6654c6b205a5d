// Every environment variable of CONTRACT.md §2, parsed and validated in one place.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const nonEmpty = z.string().trim().min(1);
const simulatorJobSeconds = z.coerce.number().positive().max(86400).default(30);

const EnvSchema = z
  .object({
    PORT: integer(0, 65535).default(4000),
    HOST: nonEmpty.default('127.0.0.1'),
    PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    DATABASE_URL: nonEmpty
      .refine(
        (v) => /^(postgres(ql)?|file):/i.test(v) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(v),
        'must be a postgres:// URL, a file: URL or a path',
      )
      .default('file:./data/gateway.db'),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/, "must be 1-64 letters, digits, ':', '.', '_' or '-'").default('vg:'),
    INSTANCE_ID: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be 1-64 letters, digits, '.', '_' or '-'")
      .optional(),
    MEDIA_DIR: nonEmpty.default('./data/media'),
    MEDIA_S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name').optional(),
    MEDIA_S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
    MEDIA_S3_REGION: nonEmpty.default('us-east-1'),
    MEDIA_S3_PREFIX: z.string().regex(/^([A-Za-z0-9._-]+\/)*$/, "must be empty or end with '/' (letters, digits, '.', '_', '-')").default(''),
    MEDIA_S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('false'),
    MEDIA_URL_MODE: z.enum(['presigned', 'gateway']).optional(),
    MEDIA_PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    SCENARIO_API_URL: z.url({ protocol: /^https?$/ }).default('https://api.cloud.scenario.com/v1'),
    SCENARIO_SDK_API_KEY: nonEmpty.optional(),
    SCENARIO_SDK_API_SECRET: nonEmpty.optional(),
    SCENARIO_MODEL_ID: nonEmpty.default('model_wan-2-5-t2v'),
    POLL_MIN_INTERVAL_MS: integer(100, 3_600_000).default(2000),
    POLL_MAX_INTERVAL_MS: integer(100, 3_600_000).default(20000),
    UPSTREAM_MAX_IN_FLIGHT: integer(1, 1000).default(8),
    MAX_ACTIVE_JOBS_PER_USER: integer(1, 100_000).default(10),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    MEDIA_URL_TTL_SECONDS: integer(1, 365 * 86400).default(86400),
    MEDIA_SIGNING_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    GENERATE_RATE_LIMIT_PER_MINUTE: integer(1, 100_000).default(30),
    RESPONSE_CACHE_ENTRIES: integer(0, 100_000).default(1000),
    SIMULATOR_JOB_SECONDS: simulatorJobSeconds,
  })
  .superRefine((env, ctx) => {
    if (env.POLL_MIN_INTERVAL_MS > env.POLL_MAX_INTERVAL_MS) {
      ctx.addIssue({ code: 'custom', path: ['POLL_MIN_INTERVAL_MS'], message: 'must not exceed POLL_MAX_INTERVAL_MS' });
    }
    if (env.MEDIA_URL_MODE === 'presigned' && env.MEDIA_S3_BUCKET === undefined) {
      ctx.addIssue({ code: 'custom', path: ['MEDIA_URL_MODE'], message: 'presigned needs MEDIA_S3_BUCKET (a bucket to presign URLs of)' });
    }
    const hasKey = env.SCENARIO_SDK_API_KEY !== undefined;
    const hasSecret = env.SCENARIO_SDK_API_SECRET !== undefined;
    if (hasKey !== hasSecret) {
      const missing = hasKey ? 'SCENARIO_SDK_API_SECRET' : 'SCENARIO_SDK_API_KEY';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'must be set together with the other Scenario credential' });
    }
  });

export interface Config {
  port: number;
  host: string;
  /** Without a trailing slash; null ⇒ derived from the listening port (PORT=0). */
  publicUrl: string | null;
  databaseUrl: string;
  /** null ⇒ one replica: events and rate limits stay in the process. */
  redisUrl: string | null;
  /** Prefix of every Redis key and channel: several deployments (or test runs) can share one Redis. */
  redisKeyPrefix: string;
  /** This replica's name in leases, logs and metrics. */
  instanceId: string;
  mediaDir: string;
  /** null ⇒ media live in MEDIA_DIR. */
  mediaS3: MediaS3Config | null;
  /**
   * How media URLs are made: the bucket's presigned GET URLs, the gateway's signed /media URLs (streamed from the
   * storage), or stable URLs under MEDIA_PUBLIC_BASE_URL (a CDN or public bucket).
   */
  mediaUrls: { mode: 'presigned' | 'gateway' } | { mode: 'public'; baseUrl: string };
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  /** null ⇒ simulator mode. */
  scenario: { apiUrl: string; apiKey: string; apiSecret: string } | null;
  modelId: string;
  pollMinIntervalMs: number;
  pollMaxIntervalMs: number;
  upstreamMaxInFlight: number;
  maxActiveJobsPerUser: number;
  mediaUrlTtlSeconds: number;
  mediaSigningSecret: string | null;
  generateRateLimitPerMinute: number;
  /** Query responses kept for repeats within the same second (src/http/response-cache.ts); 0 turns the cache off. */
  responseCacheEntries: number;
  simulatorJobSeconds: number;
}

export interface MediaS3Config {
  bucket: string;
  /** null ⇒ AWS. */
  endpoint: string | null;
  region: string;
  /** Prepended to every key: '' or ending with '/'. */
  prefix: string;
  forcePathStyle: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws ConfigError with one line naming the first bad variable. Never echoes values (they may be secrets). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "unset", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`invalid configuration: ${variable} ${issue.message}`);
  }
  const e = parsed.data;
  const port = e.PORT;
  return {
    port,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL ? e.PUBLIC_URL.replace(/\/+$/, '') : port === 0 ? null : `http://localhost:${port}`,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL ?? null,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    instanceId: e.INSTANCE_ID ?? `gw-${randomBytes(4).toString('hex')}`,
    mediaDir: e.MEDIA_DIR,
    mediaS3: e.MEDIA_S3_BUCKET
      ? {
          bucket: e.MEDIA_S3_BUCKET,
          endpoint: e.MEDIA_S3_ENDPOINT ?? null,
          region: e.MEDIA_S3_REGION,
          prefix: e.MEDIA_S3_PREFIX,
          forcePathStyle: e.MEDIA_S3_FORCE_PATH_STYLE === 'true',
        }
      : null,
    mediaUrls: e.MEDIA_PUBLIC_BASE_URL
      ? { mode: 'public', baseUrl: e.MEDIA_PUBLIC_BASE_URL.replace(/\/+$/, '') }
      : { mode: e.MEDIA_URL_MODE ?? (e.MEDIA_S3_BUCKET ? 'presigned' : 'gateway') },
    nodeEnv: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    scenario:
      e.SCENARIO_SDK_API_KEY && e.SCENARIO_SDK_API_SECRET
        ? { apiUrl: e.SCENARIO_API_URL, apiKey: e.SCENARIO_SDK_API_KEY, apiSecret: e.SCENARIO_SDK_API_SECRET }
        : null,
    modelId: e.SCENARIO_MODEL_ID,
    pollMinIntervalMs: e.POLL_MIN_INTERVAL_MS,
    pollMaxIntervalMs: e.POLL_MAX_INTERVAL_MS,
    upstreamMaxInFlight: e.UPSTREAM_MAX_IN_FLIGHT,
    maxActiveJobsPerUser: e.MAX_ACTIVE_JOBS_PER_USER,
    mediaUrlTtlSeconds: e.MEDIA_URL_TTL_SECONDS,
    mediaSigningSecret: e.MEDIA_SIGNING_SECRET ?? null,
    generateRateLimitPerMinute: e.GENERATE_RATE_LIMIT_PER_MINUTE,
    responseCacheEntries: e.RESPONSE_CACHE_ENTRIES,
    simulatorJobSeconds: e.SIMULATOR_JOB_SECONDS,
  };
}

/** `npm run simulator`'s own variables (CONTRACT §1): the port, and the job length shared with the gateway's in-process simulator. */
export function loadSimulatorConfig(env: Record<string, string | undefined> = process.env): { port: number; jobSeconds: number } {
  const schema = z.object({ SIMULATOR_PORT: integer(0, 65535).default(4010), SIMULATOR_JOB_SECONDS: simulatorJobSeconds });
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid configuration: ${String(issue.path[0])} ${issue.message}`);
  }
  return { port: parsed.data.SIMULATOR_PORT, jobSeconds: parsed.data.SIMULATOR_JOB_SECONDS };
}
