// The Scenario simulator in its own process, for benchmarks and the crash test, with what `npm run simulator` does
// not let one set (the team's concurrency cap) and, in front of it, an optional recording proxy that notes the time
// of every API request and the upstream jobs it concerned (the job read, the jobs a list call returned, the asset
// read), so the crash test can tell when each job was first looked at after a restart.
//
//   SIM_JOB_SECONDS, SIM_CONCURRENCY, SIM_RECORD=1
// Prints one line `{"simulator":"<api url>","proxy":"<api url>|null"}` when ready. The proxy also answers
//   GET /_rec/log?from=<n>  → { next, records: [{ t, route, jobIds, assetIds }] }
import { createServer, request as httpRequest, Agent, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSimulator } from '../../src/simulator/server.ts';

const jobSeconds = Number(process.env.SIM_JOB_SECONDS ?? 30);
const concurrencyLimit = Number(process.env.SIM_CONCURRENCY ?? 16);
const record = process.env.SIM_RECORD === '1';

const simulator = createSimulator({ port: 0, host: '127.0.0.1', jobSeconds, concurrencyLimit });
const simulatorUrl = await simulator.start();
const target = new URL(simulatorUrl);

export interface RecordedRequest {
  /** Epoch ms when the request arrived. */
  t: number;
  route: 'getJob' | 'listJobs' | 'getAsset' | 'submit' | 'other';
  jobIds: string[];
  assetIds: string[];
}

const MAX_RECORDS = 2_000_000;
const records: RecordedRequest[] = [];
let proxyUrl: string | null = null;

if (record) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const proxy = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (url.pathname === '/_rec/log') return sendLog(url, res);
    const t = Date.now();
    const getJob = req.method === 'GET' ? /^\/v1\/jobs\/([A-Za-z0-9_-]+)$/.exec(url.pathname) : null;
    const getAsset = req.method === 'GET' ? /^\/v1\/assets\/([A-Za-z0-9_-]+)$/.exec(url.pathname) : null;
    const list = req.method === 'GET' && url.pathname === '/v1/jobs';
    const submit = req.method === 'POST' && url.pathname.startsWith('/v1/generate/');
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          const entry: RecordedRequest = { t, route: 'other', jobIds: [], assetIds: [] };
          if (getJob) Object.assign(entry, { route: 'getJob', jobIds: [getJob[1]!] });
          else if (getAsset) Object.assign(entry, { route: 'getAsset', assetIds: [getAsset[1]!] });
          else if (submit) entry.route = 'submit';
          else if (list) {
            entry.route = 'listJobs';
            try {
              entry.jobIds = (JSON.parse(body.toString('utf8')) as { jobs?: Array<{ jobId: string }> }).jobs?.map((j) => j.jobId) ?? [];
            } catch {
              // not JSON (a fault): no job answered
            }
          }
          if (records.length < MAX_RECORDS && entry.route !== 'other') records.push(entry);
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(body);
        });
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => res.destroy());
    req.on('error', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/v1`;
}

function sendLog(url: URL, res: ServerResponse) {
  const from = Math.max(0, Number(url.searchParams.get('from') ?? 0) || 0);
  const page = records.slice(from, from + 50_000);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ next: from + page.length, records: page }));
}

process.stdout.write(`${JSON.stringify({ simulator: simulatorUrl, proxy: proxyUrl })}\n`);

const stop = () => void simulator.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
