// `npm run crashtest [-- --kills 50] [--seed N] [--users 4] [--keep]`: see bench/crash/harness.ts. Prints every check
// against its goal; exits 1 when one is missed.
import { formatCrashReport, runCrashTest } from './crash/harness.ts';

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
process.stdout.write(`${formatCrashReport(result)}\n`);
if (args.includes('--keep')) process.stdout.write(`files kept in ${result.dir}\n`);
process.exit(result.ok ? 0 : 1);
