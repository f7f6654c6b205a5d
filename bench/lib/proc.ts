// Child processes for the benchmarks and the crash test: Node scripts run through tsx in one process (`node --import
// tsx`, so a signal reaches the script itself and not a wrapper), optionally pinned to a core with taskset, with a
// bounded wait for a line or an IPC message, and a bounded stop.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

let tasksetChecked: boolean | null = null;

/** True when `taskset` exists and the machine has at least two cores to split between server and load. */
export function canPin(): boolean {
  if (tasksetChecked === null) {
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
      tasksetChecked = cpus().length >= 2;
    } catch {
      tasksetChecked = false;
    }
  }
  return tasksetChecked;
}

/** Core of the process under test; the load generator (this process and its other children) uses the next one. */
export const SERVER_CORE = 0;
export const LOAD_CORE = 1;

/** Pins this process (every thread) to `core`; children inherit it unless they are pinned otherwise. */
export function pinSelf(core: number): boolean {
  if (!canPin()) return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface NodeChildOptions {
  env?: Record<string, string | undefined>;
  /** Core to pin the child to; null = inherit. */
  core?: number | null;
  /** Extra flags for node, e.g. --expose-gc, --cpu-prof. */
  nodeArgs?: string[];
  ipc?: boolean;
  cwd?: string;
  /** Own process group, so that a wrapper (npm) and its children can be signalled together. */
  detached?: boolean;
}

export class Child {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly messages: unknown[] = [];
  private readonly messageWaiters = new Set<() => void>();
  private readonly outputWaiters = new Set<() => void>();

  constructor(readonly process: ChildProcess) {
    process.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      if (this.stdout.length > 4_000_000) this.stdout = this.stdout.slice(-1_000_000);
      for (const w of [...this.outputWaiters]) w();
    });
    process.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      if (this.stderr.length > 1_000_000) this.stderr = this.stderr.slice(-200_000);
      for (const w of [...this.outputWaiters]) w();
    });
    process.on('message', (message) => {
      this.messages.push(message);
      for (const w of [...this.messageWaiters]) w();
    });
    this.exited = new Promise((resolve) => process.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => {
      for (const w of [...this.outputWaiters, ...this.messageWaiters]) w();
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Waits for stdout or stderr to match; returns the match. */
  waitForOutput(pattern: RegExp, timeoutMs: number, label = String(pattern)): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(this.stdout) ?? pattern.exec(this.stderr);
        if (match) return finish(() => resolve(match));
        if (!this.alive) return finish(() => reject(new Error(`${label}: process exited first\n${this.tail()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${label}: not seen within ${timeoutMs} ms\n${this.tail()}`))), timeoutMs);
      const finish = (then: () => void) => {
        clearTimeout(timer);
        this.outputWaiters.delete(check);
        then();
      };
      this.outputWaiters.add(check);
      check();
    });
  }

  /** The next IPC message for which `accept` returns true (messages are consumed). */
  waitForMessage<T>(accept: (message: any) => boolean, timeoutMs: number, label = 'message'): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const index = this.messages.findIndex(accept);
        if (index >= 0) {
          const [message] = this.messages.splice(index, 1);
          return finish(() => resolve(message as T));
        }
        if (!this.alive) finish(() => reject(new Error(`${label}: process exited first\n${this.tail()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${label}: no answer within ${timeoutMs} ms\n${this.tail()}`))), timeoutMs);
      const finish = (then: () => void) => {
        clearTimeout(timer);
        this.messageWaiters.delete(check);
        then();
      };
      this.messageWaiters.add(check);
      check();
    });
  }

  private requestSeq = 0;

  /** Sends `{type, ...payload, requestId}` and waits for the reply with the same requestId. */
  async request<T = any>(type: string, payload: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const requestId = ++this.requestSeq;
    this.process.send({ type, requestId, ...payload });
    const reply = await this.waitForMessage<{ requestId: number; error?: string } & T>((m) => m?.requestId === requestId, timeoutMs, type);
    if (reply.error) throw new Error(`${type}: ${reply.error}`);
    return reply;
  }

  /** Signals the process (or its group when detached) and waits for it to end, killing it after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (!this.alive) return;
    this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  signal(signal: NodeJS.Signals): void {
    try {
      if (this.detached) process.kill(-this.pid, signal);
      else this.process.kill(signal);
    } catch {
      // already gone
    }
  }

  detached = false;

  tail(): string {
    return `--- stdout ---\n${this.stdout.slice(-2000)}\n--- stderr ---\n${this.stderr.slice(-2000)}`;
  }
}

const TSX_LOADER = 'tsx';

/** `node --import tsx <script>`, pinned to `core` when possible. */
export function spawnNode(script: string, args: string[], options: NodeChildOptions = {}): Child {
  const nodeArgs = [...(options.nodeArgs ?? []), '--import', TSX_LOADER, script, ...args];
  return spawnCommand(process.execPath, nodeArgs, options);
}

export function spawnCommand(command: string, args: string[], options: NodeChildOptions = {}): Child {
  const pin = options.core != null && canPin();
  const file = pin ? 'taskset' : command;
  const argv = pin ? ['-c', String(options.core), command, ...args] : args;
  const child = spawn(file, argv, {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env } as NodeJS.ProcessEnv,
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  const wrapped = new Child(child);
  wrapped.detached = options.detached ?? false;
  return wrapped;
}

/** A TCP port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resident set size of any process, in bytes (Linux /proc), or null. */
export function rssOf(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) of a process in milliseconds (Linux /proc), or null. */
export function cpuTimeMsOf(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // After "pid (comm) ": state is field 3, utime 14, stime 15 (1-based) → indexes 11 and 12 here.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / clockTicksPerSecond();
  } catch {
    return null;
  }
}

let ticks: number | null = null;
function clockTicksPerSecond(): number {
  if (ticks === null) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `intervalMs` until it returns a truthy value, for at most `timeoutMs`. */
export async function waitUntil<T>(check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number, label: string, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await sleep(intervalMs);
  }
}

/** Raises this process's soft limit of open files towards the hard limit (a shell builtin; Node cannot). */
export function openFileLimit(): { soft: number; hard: number } | null {
  try {
    const soft = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
    const hard = Number(execFileSync('sh', ['-c', 'ulimit -Hn']).toString().trim());
    return { soft, hard };
  } catch {
    return null;
  }
}

export const hasProc = existsSync('/proc/self/status');

/**
 * CPU time of the whole machine (busy, all cores) and of this process with every child it has reaped (Linux /proc),
 * in ms: the difference over a scenario is what other processes used meanwhile (the machine is shared).
 */
export function cpuSnapshot(): { machineBusyMs: number; ownMs: number; at: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …
    const busyTicks = line[0]! + line[1]! + line[2]! + line[5]! + line[6]! + line[7]!;
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    // utime, stime, cutime, cstime: fields 14–17 (1-based) → indexes 11–14 after "pid (comm) ".
    const ownTicks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    const tick = 1000 / clockTicksPerSecond();
    return { machineBusyMs: busyTicks * tick, ownMs: ownTicks * tick, at: Date.now() };
  } catch {
    return null;
  }
}
