// The per-operation context: the viewer resolved once (bearer header over HTTP, connectionParams over graphql-ws),
// the shared services, and a fresh Pothos cache (its DataLoaders are created lazily, on first use).
import { initContextCache } from '@pothos/core';
import type { ApiServices, GraphQLContext } from '../schema/context.ts';
import type { Viewer } from '../store/store.ts';

export function createContext(services: ApiServices, viewer: Viewer): GraphQLContext {
  return { ...initContextCache(), viewer: viewer.user, viewerDataVersion: viewer.dataVersion, services, mediaUrlExpiry: undefined };
}
