// `npm run bench [-- <scenario>…] [--runs N]`: runs the scenarios of issue 6 (all of them by default), prints a
// table, and writes bench/results/latest.json and bench/RESULTS.md. A partial run replaces only its own scenarios
// in latest.json; RESULTS.md is regenerated from the whole file.
//
// This process is the load generator: it pins itself to the load core and starts every server pinned to the other.
import { cpus } from 'node:os';
import { cpuSnapshot, openFileLimit, pinSelf, LOAD_CORE } from './lib/proc.ts';
import { environment, formatTable, type ResultsFile, type ScenarioResult } from './lib/report.ts';
import { readJson, RESULTS_JSON, writeJson, writeResultsMarkdown } from './lib/results-file.ts';
import { createContext, type Scenario } from './scenarios/context.ts';
import { fanout } from './scenarios/fanout.ts';
import { fanoutReplicas } from './scenarios/fanout-replicas.ts';
import { history } from './scenarios/history.ts';
import { historyPostgres } from './scenarios/history-postgres.ts';
import { mirrorS3 } from './scenarios/mirror-s3.ts';
import { pollerCost } from './scenarios/poller-cost.ts';
import { pollerCostReplicas } from './scenarios/poller-cost-replicas.ts';
import { polling } from './scenarios/polling.ts';
import { startup } from './scenarios/startup.ts';
import { statements } from './scenarios/statements.ts';
import { subscribers } from './scenarios/subscribers.ts';
import { takeover } from './scenarios/takeover.ts';

const SCENARIOS: Record<string, Scenario> = {
  history,
  statements,
  subscribers,
  fanout,
  polling,
  'poller-cost': pollerCost,
  startup,
  // Several replicas on PostgreSQL and Redis (CONTRACT §9): skipped, with the reason, where either is missing.
  'history-postgres': historyPostgres,
  'fanout-replicas': fanoutReplicas,
  takeover,
  'poller-cost-replicas': pollerCostReplicas,
  // Issue 13: a 50 MiB video mirrored into an S3-compatible bucket (s3rver), against a local file copy.
  'mirror-s3': mirrorS3,
};

function parseArgs(argv: string[]): { names: string[]; runs: number } {
  const names: string[] = [];
  let runs = 3;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--report') {
      // Only regenerate bench/RESULTS.md (e.g. after editing bench/results/notes.md).
      writeResultsMarkdown();
      process.exit(0);
    }
    if (arg === '--runs') runs = Math.max(1, Number(argv[++i]) || 3);
    else if (arg.startsWith('--runs=')) runs = Math.max(1, Number(arg.slice(7)) || 3);
    else if (arg in SCENARIOS) names.push(arg);
    else {
      process.stderr.write(`unknown scenario ${arg}; known: ${Object.keys(SCENARIOS).join(', ')}\n`);
      process.exit(2);
    }
  }
  return { names: names.length ? names : Object.keys(SCENARIOS), runs };
}

const { names, runs } = parseArgs(process.argv.slice(2));
const pinned = pinSelf(LOAD_CORE);
const limit = openFileLimit();
const env = environment(pinned, limit ? `soft ${limit.soft}, hard ${limit.hard}` : 'unknown');
process.stderr.write(`bench: ${names.join(', ')} — ${env.cpu}, ${env.cores} cores, Node ${env.node}, ${pinned ? 'pinned' : 'not pinned'}, ${runs} runs\n`);

const results: ScenarioResult[] = [];
let failed = false;
for (const name of names) {
  const { ctx, cleanup } = createContext(name, runs);
  const started = Date.now();
  const cpuBefore = cpuSnapshot();
  try {
    const outcome = await SCENARIOS[name]!(ctx);
    const cpuAfter = cpuSnapshot();
    if (cpuBefore && cpuAfter) {
      // What processes other than the bench's own used meanwhile: the machine is shared.
      const foreign = (cpuAfter.machineBusyMs - cpuBefore.machineBusyMs - (cpuAfter.ownMs - cpuBefore.ownMs)) / ((cpuAfter.at - cpuBefore.at) * cpus().length);
      outcome.notes.push(`Other processes used ${Math.max(0, Math.round(foreign * 100))} % of the machine's CPU during this scenario.`);
      outcome.details.foreignCpuShare = foreign;
    }
    results.push({ scenario: name, at: new Date().toISOString(), seconds: (Date.now() - started) / 1000, ...outcome });
    ctx.log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } catch (error) {
    failed = true;
    ctx.log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    results.push({
      scenario: name,
      at: new Date().toISOString(),
      seconds: (Date.now() - started) / 1000,
      figures: [{ measure: 'scenario', value: null, unit: '', baseline: '', goal: 'runs to the end', met: false, note: String(error).slice(0, 300) }],
      notes: [`failed: ${String(error).slice(0, 300)}`],
      details: {},
    });
  } finally {
    cleanup();
  }
}

const previous = readJson<ResultsFile>(RESULTS_JSON);
const file: ResultsFile = { environment: env, scenarios: { ...(previous?.scenarios ?? {}) } };
for (const result of results) file.scenarios[result.scenario] = { ...result, environment: env };
writeJson(RESULTS_JSON, file);
writeResultsMarkdown();

process.stdout.write(`\n${formatTable(results)}\n\nwritten: bench/results/latest.json, bench/RESULTS.md\n`);
const missed = results.flatMap((r) => r.figures).filter((f) => f.met === false).length;
if (missed > 0) process.stdout.write(`${missed} figure(s) missed their goal\n`);
process.exit(failed ? 1 : 0);
