// The gateway as the benchmarks run it: the same `buildApp(loadConfig())` as src/main.ts, in its own process, plus an
// IPC channel for the figures only the process itself knows (heap after a full GC, CPU time). Started with
// `node --expose-gc --import tsx bench/lib/gateway-process.ts` and the gateway's usual environment variables.
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { loadConfig } from '../../src/config.ts';

const config = loadConfig();
const { buildApp } = await import('../../src/app.ts');
const app = buildApp(config);
const running = await app.start();

const gc = (globalThis as { gc?: () => void }).gc;

function memory() {
  const usage = process.memoryUsage();
  // The young generation grows with the allocation rate and is not given back at once: part of RSS, not of any object.
  const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
  return { rss: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external, arrayBuffers: usage.arrayBuffers, newSpace };
}

process.on('message', (message: { type: string; requestId: number }) => {
  const reply = (payload: Record<string, unknown>) => process.send?.({ requestId: message.requestId, ...payload });
  switch (message.type) {
    case 'memory': {
      // Two passes: the first may only queue finalizers.
      if (gc) {
        gc();
        gc();
      }
      reply({ ...memory(), gcAvailable: Boolean(gc) });
      return;
    }
    case 'cpu': {
      const cpu = process.cpuUsage();
      reply({ userMs: cpu.user / 1000, systemMs: cpu.system / 1000, at: performance.now() });
      return;
    }
    case 'heapSnapshot': {
      // For finding what a figure is made of (bench/lib/heapsnapshot.ts compares two).
      gc?.();
      reply({ file: writeHeapSnapshot((message as unknown as { file: string }).file) });
      return;
    }
    case 'listeners':
      reply({ listeners: running.bus.listenerCount() });
      return;
    case 'stop':
      void app.stop().then(() => {
        reply({ stopped: true });
        setTimeout(() => process.exit(0), 50);
      });
      return;
    default:
      reply({ error: `unknown request ${message.type}` });
  }
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => void app.stop().then(() => process.exit(0)));
}
// The bench that started this process is gone: do not outlive it.
process.on('disconnect', () => void app.stop().then(() => process.exit(0)));

process.send?.({ type: 'ready', url: running.url, upstreamUrl: running.upstreamUrl, bootstrapToken: running.bootstrapToken });
