// Media URLs for the objects of one result: one expiry per context, so `url` and `urlExpiresAt` agree.
import type { GraphQLContext } from './context.ts';

/** Unix seconds, or null for URLs that never expire (MEDIA_PUBLIC_BASE_URL). */
export function mediaExpiry(context: GraphQLContext): number | null {
  if (context.mediaUrlExpiry === undefined) context.mediaUrlExpiry = context.services.mediaUrls.expiry();
  return context.mediaUrlExpiry;
}

export function mediaUrl(context: GraphQLContext, key: string): Promise<string> {
  return context.services.mediaUrls.url(key, mediaExpiry(context));
}
