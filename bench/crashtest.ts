// `npm run crashtest [-- --kills 50] [--seed N] [--users 4] [--keep] [--store sqlite|postgres] [--replicas N]`: see
// bench/crash/harness.ts. `--store postgres` runs `--replicas` gateways (default 3) on a fresh database of the server
// TEST_DATABASE_URL names (default postgres://postgres@127.0.0.1:5432/postgres) with Redis at TEST_REDIS_URL (default
// redis://127.0.0.1:6379). Prints every check against its goal; exits 1 when one is missed.
import { basename } from 'node:path';
import { formatCrashReport, runCrashTest } from './crash/harness.ts';
import { CRASHTEST_JSON, CRASHTEST_REPLICAS_JSON, writeJson, writeResultsMarkdown } from './lib/results-file.ts';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = args.indexOf(`--${name}`);
  if (index >= 0) return args[index + 1];
  return args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
};

const store = option('store') ?? 'sqlite';
if (store !== 'sqlite' && store !== 'postgres') {
  process.stderr.write(`--store must be sqlite or postgres, not ${store}\n`);
  process.exit(2);
}
const result = await runCrashTest({
  kills: Number(option('kills') ?? 50),
  store,
  replicas: Number(option('replicas') ?? (store === 'postgres' ? 3 : 1)),
  seed: option('seed') !== undefined ? Number(option('seed')) : undefined,
  users: option('users') !== undefined ? Number(option('users')) : undefined,
  keep: args.includes('--keep'),
  log: (line) => process.stderr.write(`${line}\n`),
});
const report = formatCrashReport(result);
process.stdout.write(`${report}\n`);
// The full run is the one bench/RESULTS.md reports; shorter ones (--kills N) leave it alone.
if (result.kills >= 50) {
  const file = result.replicas ? CRASHTEST_REPLICAS_JSON : CRASHTEST_JSON;
  writeJson(file, { ...result, date: new Date().toISOString(), node: process.version, report });
  writeResultsMarkdown();
  process.stdout.write(`written: bench/results/${basename(file)}, bench/RESULTS.md\n`);
}
if (args.includes('--keep')) process.stdout.write(`files kept in ${result.dir}\n`);
process.exit(result.ok ? 0 : 1);
