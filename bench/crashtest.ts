// `npm run crashtest [-- --kills 50] [--seed N] [--users 4] [--keep]`: see bench/crash/harness.ts. Prints every check
// against its goal; exits 1 when one is missed.
import { formatCrashReport, runCrashTest } from './crash/harness.ts';
import { CRASHTEST_JSON, writeJson, writeResultsMarkdown } from './lib/results-file.ts';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = args.indexOf(`--${name}`);
  if (index >= 0) return args[index + 1];
  return args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
};

const result = await runCrashTest({
  kills: Number(option('kills') ?? 50),
  seed: option('seed') !== undefined ? Number(option('seed')) : undefined,
  users: option('users') !== undefined ? Number(option('users')) : undefined,
  keep: args.includes('--keep'),
  log: (line) => process.stderr.write(`${line}\n`),
});
const report = formatCrashReport(result);
process.stdout.write(`${report}\n`);
// The full run is the one bench/RESULTS.md reports; shorter ones (--kills N) leave it alone.
if (result.kills >= 50) {
  writeJson(CRASHTEST_JSON, { ...result, date: new Date().toISOString(), node: process.version, report });
  writeResultsMarkdown();
  process.stdout.write('written: bench/results/crashtest.json, bench/RESULTS.md\n');
}
if (args.includes('--keep')) process.stdout.write(`files kept in ${result.dir}\n`);
process.exit(result.ok ? 0 : 1);
