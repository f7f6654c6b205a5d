import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { runTsx } from './helpers/run-cli.ts';

describe('configuration', () => {
  it('has the defaults of CONTRACT.md §2', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      publicUrl: 'http://localhost:4000',
      databaseUrl: 'file:./data/gateway.db',
      mediaDir: './data/media',
      scenario: null,
      modelId: 'model_wan-2-5-t2v',
      pollMinIntervalMs: 2000,
      pollMaxIntervalMs: 20000,
      upstreamMaxInFlight: 8,
      maxActiveJobsPerUser: 10,
      logLevel: 'info',
      nodeEnv: 'development',
      mediaUrlTtlSeconds: 86400,
      mediaSigningSecret: null,
      generateRateLimitPerMinute: 30,
      simulatorJobSeconds: 30,
      redisUrl: null,
    });
    expect(config.instanceId).toMatch(/^gw-[0-9a-f]{8}$/);
    expect(loadConfig({}).instanceId).not.toBe(config.instanceId);
    expect(loadConfig({ INSTANCE_ID: 'web-2' }).instanceId).toBe('web-2');
    expect(loadConfig({ DATABASE_URL: 'postgres://postgres@db:5432/gateway' }).databaseUrl).toBe('postgres://postgres@db:5432/gateway');
    expect(config).toMatchObject({ mediaS3: null, mediaUrls: { mode: 'gateway' } });
    const bucket = loadConfig({ MEDIA_S3_BUCKET: 'videos-prod', MEDIA_S3_ENDPOINT: 'http://127.0.0.1:9000', MEDIA_S3_PREFIX: 'gw/', MEDIA_S3_FORCE_PATH_STYLE: 'true' });
    expect(bucket).toMatchObject({
      mediaS3: { bucket: 'videos-prod', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', prefix: 'gw/', forcePathStyle: true },
      mediaUrls: { mode: 'presigned' },
    });
    expect(loadConfig({ MEDIA_S3_BUCKET: 'videos-prod', MEDIA_URL_MODE: 'gateway' }).mediaUrls).toEqual({ mode: 'gateway' });
    expect(loadConfig({ MEDIA_PUBLIC_BASE_URL: 'https://cdn.example.com/v/' }).mediaUrls).toEqual({ mode: 'public', baseUrl: 'https://cdn.example.com/v' });
  });

  it('derives the public URL from a free port, and takes both credentials together', () => {
    expect(loadConfig({ PORT: '0' }).publicUrl).toBeNull();
    expect(loadConfig({ PUBLIC_URL: 'https://videos.example.com/' }).publicUrl).toBe('https://videos.example.com');
    const live = loadConfig({ SCENARIO_SDK_API_KEY: 'k', SCENARIO_SDK_API_SECRET: 's', SCENARIO_API_URL: 'http://127.0.0.1:9/v1' });
    expect(live.scenario).toEqual({ apiUrl: 'http://127.0.0.1:9/v1', apiKey: 'k', apiSecret: 's' });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ SCENARIO_SDK_API_KEY: 'only-the-key' }, 'SCENARIO_SDK_API_SECRET'],
    [{ SCENARIO_SDK_API_SECRET: 'only-the-secret' }, 'SCENARIO_SDK_API_KEY'],
    [{ POLL_MIN_INTERVAL_MS: '30000' }, 'POLL_MIN_INTERVAL_MS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ UPSTREAM_MAX_IN_FLIGHT: '0' }, 'UPSTREAM_MAX_IN_FLIGHT'],
    [{ DATABASE_URL: 'mysql://db/gateway' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
    [{ INSTANCE_ID: 'two words' }, 'INSTANCE_ID'],
    [{ MEDIA_URL_MODE: 'presigned' }, 'MEDIA_URL_MODE'],
    [{ MEDIA_S3_BUCKET: 'Not_A_Bucket' }, 'MEDIA_S3_BUCKET'],
    [{ MEDIA_S3_PREFIX: 'no-slash' }, 'MEDIA_S3_PREFIX'],
    [{ MEDIA_SIGNING_SECRET: 'short' }, 'MEDIA_SIGNING_SECRET'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
  ])('refuses %o naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^invalid configuration: ${variable} `));
  });

  it('never echoes a value, which may be a secret', () => {
    expect(() => loadConfig({ SCENARIO_SDK_API_KEY: 'sk-very-secret' })).toThrow(/^(?!.*sk-very-secret)/);
  });

  it('makes `npm start` exit non-zero with one line naming the variable', async () => {
    const result = await runTsx('src/main.ts', [], { PORT: 'not-a-port' });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^invalid configuration: PORT /);
  });
});
