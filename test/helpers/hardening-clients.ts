// Clients for the hardening tests: a raw graphql-transport-ws socket (to send what a well-behaved client never
// would), a resolver counter, and small HTTP helpers that keep every response for later inspection.
import { request as httpRequest } from 'node:http';
import { defaultFieldResolver, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { WebSocket } from 'ws';

export interface RawWs {
  socket: WebSocket;
  /** Every message received, parsed. */
  messages: any[];
  /** Resolves with the close code and reason (bounded by the caller's own deadline). */
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** The first message matching `match`, within `timeoutMs`. */
  next(match: (message: any) => boolean, timeoutMs?: number): Promise<any>;
  close(): void;
}

/** A WebSocket speaking graphql-transport-ws by hand. Resolves once the socket is open. */
export async function rawWs(url: string, protocol = 'graphql-transport-ws'): Promise<RawWs> {
  const socket = new WebSocket(url, protocol);
  const messages: any[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    try {
      messages.push(JSON.parse(String(data)));
    } catch {
      messages.push({ unparsable: String(data) });
    }
    for (const wake of [...waiters]) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => {
      resolve({ code, reason: String(reason) });
      for (const wake of [...waiters]) wake();
    });
  });
  socket.on('error', () => {}); // the close event follows
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('close', (code) => reject(new Error(`socket closed before opening (${code})`)));
  });
  return {
    socket,
    messages,
    closed,
    send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
    next(match, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        let timer: NodeJS.Timeout;
        const check = () => {
          const found = messages.find(match);
          if (found) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(found);
          } else if (socket.readyState === WebSocket.CLOSED) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`socket closed; messages: ${JSON.stringify(messages)}`));
          }
        };
        timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(messages)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => socket.close(),
  };
}

/** Opens a raw socket, sends connection_init with the token and waits for the ack. */
export async function ackedWs(url: string, token: string): Promise<RawWs> {
  const ws = await rawWs(url);
  ws.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
  await ws.next((m) => m.type === 'connection_ack');
  return ws;
}

/** Waits for a promise, failing after `ms` (every wait in these tests is bounded). */
export async function within<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${label}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Wraps every field resolver (and subscribe function) of the schema to count calls. The schema is the module's
 * singleton, so this affects only the test file that calls it (vitest isolates files).
 */
export function countResolverCalls(schema: GraphQLSchema): { calls: () => number } {
  let calls = 0;
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      field.resolve = (...args) => {
        calls++;
        return resolve(...args);
      };
      const subscribe = field.subscribe;
      if (subscribe) {
        field.subscribe = (...args) => {
          calls++;
          return subscribe(...args);
        };
      }
    }
  }
  return { calls: () => calls };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A POST with exactly these bytes and headers (fetch would add or change some). */
export function rawPost(url: string, path: string, body: string | Buffer, headers: Record<string, string>): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // The server may answer (413) and close before the whole body is sent.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') resolve({ status: -1, headers: {}, body: error.code });
      else reject(error);
    });
    req.end(body);
  });
}
