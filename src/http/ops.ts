// Operator endpoints: /healthz (the process answers), /readyz (the database answers and is migrated, and the media
// storage can be used), /metrics
// (Prometheus text). No authentication: keep them off the public internet (docs/PRODUCTION.md).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import type { MediaStorage } from '../media/storage/index.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import type { Store } from '../store/store.ts';
import { pathOf } from './traffic.ts';

export interface OpsHandlerOptions {
  store: Store;
  /** Where media live: a bucket that cannot be reached makes the replica unready too. */
  media: Pick<MediaStorage, 'check'>;
  metrics: GatewayMetrics;
  log: Logger;
}

function send(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
}

/** Answers /healthz, /readyz and /metrics (GET or HEAD); returns false for any other path. */
export function createOpsHandler(options: OpsHandlerOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { store, media, metrics, log } = options;
  const ready = async () => (await store.isReady()) && (await media.check().then(() => true, () => false));
  return (req, res) => {
    const path = pathOf(req);
    if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, 'method not allowed\n');
      return true;
    }
    if (path === '/healthz') {
      send(res, 200, 'ok\n');
    } else if (path === '/readyz') {
      void ready().then(
        (ready) => send(res, ready ? 200 : 503, ready ? 'ready\n' : 'not ready\n'),
        () => send(res, 503, 'not ready\n'),
      );
    } else {
      void metrics.render().then(
        (text) => send(res, 200, text, metrics.contentType),
        (error: unknown) => {
          log.error({ err: error }, 'metrics could not be collected');
          send(res, 500, 'metrics unavailable\n');
        },
      );
    }
    return true;
  };
}
