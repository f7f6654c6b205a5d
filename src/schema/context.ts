// What every resolver sees. Built once per HTTP request and once per graphql-ws operation (src/http/context.ts).
import type { Config } from '../config.ts';
import type { VideoJobEngine } from '../engine/engine.ts';
import type { JobEventBus } from '../events/job-event-bus.ts';
import type { Logger } from '../log.ts';
import type { MediaUrls } from '../media/urls.ts';
import type { Store, User } from '../store/store.ts';

/** The long-lived parts the API is built on; one instance per server. */
export interface ApiServices {
  store: Store;
  engine: VideoJobEngine;
  bus: JobEventBus;
  config: Config;
  log: Logger;
  mediaUrls: MediaUrls;
  upstreamMode: 'LIVE' | 'SIMULATED';
}

export interface GraphQLContext {
  /** The authenticated user; a context is never built without one (HTTP 401 / graphql-ws 4403 first). */
  viewer: User;
  /** The viewer's data version when the operation was authenticated, before any resolver read data (response cache). */
  viewerDataVersion: number;
  services: ApiServices;
  /**
   * Expiry (unix seconds) of the media URLs issued while resolving this result, so `url` and `urlExpiresAt`
   * agree (null: they never expire); undefined until the first URL. Reset with the data loaders before each
   * subscription message.
   */
  mediaUrlExpiry: number | null | undefined;
}
