// Signed media URLs for the objects of one result: one expiry per context, so `url` and `urlExpiresAt` agree.
import type { GraphQLContext } from './context.ts';

export function mediaExpiry(context: GraphQLContext): number {
  context.mediaUrlExpiry ??= context.services.media.expiry();
  return context.mediaUrlExpiry;
}

export function signedMediaUrl(context: GraphQLContext, relativePath: string): string {
  return context.services.media.sign(relativePath, mediaExpiry(context)).url;
}
