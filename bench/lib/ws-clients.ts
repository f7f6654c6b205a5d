// The subscription load generator, in its own process (driven over IPC by the bench): many graphql-ws
// (`graphql-transport-ws`) connections on plain `ws` sockets, one subscription each, with as little client-side work
// per message as possible so that the figures are the gateway's.
//
// Requests: open {url, token, count, concurrency, query, variables, tag?} → {opened, failed, firstError, ms}
//           subscribe {opId, query, variables, timeoutMs} → {ready, failed, ms}      (on every open connection)
//           arm {opId, status}          → {}     start noting arrivals of `next` messages of opId with that status
//           collect {opId, timeoutMs}   → {received, expected, latencies: ms from the job's updatedAt to arrival,
//                                          byTag: the same per `tag` given at open (e.g. which replica a socket is on)}
//           close                       → {closed}
import WebSocket from 'ws';

interface Connection {
  socket: WebSocket;
  /** opId → resolve of the wait for its first message. */
  firstMessage: Map<string, () => void>;
  tag: string | null;
}

interface Armed {
  status: string;
  latencies: number[];
  byTag: Map<string, number[]>;
}

const connections: Connection[] = [];
const armed = new Map<string, Armed>();

function openOne(url: string, token: string, query: string, variables: unknown, timeoutMs: number, tag: string | null = null): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    const connection: Connection = { socket, firstMessage: new Map(), tag };
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('no first message in time'));
    }, timeoutMs);
    connection.firstMessage.set('s0', () => {
      clearTimeout(timer);
      resolve(connection);
    });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data: Buffer) => onMessage(connection, data, query, variables));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`closed with ${code}`));
    });
  });
}

function onMessage(connection: Connection, data: Buffer, query: string, variables: unknown): void {
  const at = Date.now();
  const text = data.toString('utf8');
  // Cheap checks first: most messages during a fan-out are the awaited `next`.
  if (text.startsWith('{"id"') || text.includes('"type":"next"')) {
    const message = JSON.parse(text) as { id: string; type: string; payload?: { data?: { jobUpdated?: { status: string; updatedAt: string } } } };
    if (message.type === 'next') {
      const first = connection.firstMessage.get(message.id);
      if (first) {
        connection.firstMessage.delete(message.id);
        first();
      }
      const expectation = armed.get(message.id);
      const job = message.payload?.data?.jobUpdated;
      if (expectation && job && job.status === expectation.status) {
        const latency = at - Date.parse(job.updatedAt);
        expectation.latencies.push(latency);
        if (connection.tag !== null) {
          const tagged = expectation.byTag.get(connection.tag);
          if (tagged) tagged.push(latency);
          else expectation.byTag.set(connection.tag, [latency]);
        }
      }
    }
    return;
  }
  const message = JSON.parse(text) as { type: string };
  if (message.type === 'connection_ack') {
    connection.socket.send(JSON.stringify({ id: 's0', type: 'subscribe', payload: { query, variables } }));
  } else if (message.type === 'ping') {
    connection.socket.send('{"type":"pong"}');
  }
}

async function open(request: { url: string; token: string; count: number; concurrency: number; query: string; variables: unknown; timeoutMs?: number; tag?: string }) {
  const started = Date.now();
  let next = 0;
  let failed = 0;
  let firstError: string | null = null;
  const worker = async () => {
    while (next < request.count) {
      next++;
      try {
        connections.push(await openOne(request.url, request.token, request.query, request.variables, request.timeoutMs ?? 30_000, request.tag ?? null));
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: request.concurrency }, worker));
  return { opened: connections.length, failed, firstError, ms: Date.now() - started };
}

async function subscribe(request: { opId: string; query: string; variables: unknown; timeoutMs: number; concurrency?: number }) {
  const started = Date.now();
  let failed = 0;
  let next = 0;
  const live = connections.filter((c) => c.socket.readyState === WebSocket.OPEN);
  const worker = async () => {
    while (next < live.length) {
      const connection = live[next++]!;
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), request.timeoutMs);
        connection.firstMessage.set(request.opId, () => {
          clearTimeout(timer);
          resolve(true);
        });
        connection.socket.send(JSON.stringify({ id: request.opId, type: 'subscribe', payload: { query: request.query, variables: request.variables } }));
      });
      if (!ok) failed++;
    }
  };
  await Promise.all(Array.from({ length: request.concurrency ?? 200 }, worker));
  return { ready: live.length - failed, failed, ms: Date.now() - started };
}

async function collect(request: { opId: string; timeoutMs: number }) {
  const expectation = armed.get(request.opId);
  if (!expectation) throw new Error(`op ${request.opId} not armed`);
  const expected = connections.filter((c) => c.socket.readyState === WebSocket.OPEN).length;
  const deadline = Date.now() + request.timeoutMs;
  while (expectation.latencies.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  armed.delete(request.opId);
  return { received: expectation.latencies.length, expected, latencies: expectation.latencies, byTag: Object.fromEntries(expectation.byTag) };
}

async function closeAll() {
  const closing = connections.splice(0).map(
    (c) =>
      new Promise<void>((resolve) => {
        if (c.socket.readyState === WebSocket.CLOSED) return resolve();
        c.socket.once('close', () => resolve());
        c.socket.terminate();
      }),
  );
  await Promise.all(closing);
  return { closed: closing.length };
}

process.on('message', (message: any) => {
  const reply = (payload: Record<string, unknown>) => process.send?.({ requestId: message.requestId, ...payload });
  const run = async () => {
    switch (message.type) {
      case 'open':
        return open(message);
      case 'subscribe':
        return subscribe(message);
      case 'arm':
        armed.set(message.opId, { status: message.status, latencies: [], byTag: new Map() });
        return {};
      case 'collect':
        return collect(message);
      case 'close':
        return closeAll();
      default:
        throw new Error(`unknown request ${message.type}`);
    }
  };
  run().then(reply, (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }));
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
