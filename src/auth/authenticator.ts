// The one way a bearer token becomes a viewer, for HTTP requests, graphql-ws connections and the response cache
// alike: one indexed lookup that also reads the viewer's data version (the response cache compares it).
import type { Store, Viewer } from '../store/store.ts';
import { hashToken, MAX_TOKEN_LENGTH } from './tokens.ts';

export class Authenticator {
  constructor(private readonly store: Pick<Store, 'findViewerByTokenHash'>) {}

  /** The viewer of a token; null for a missing, over-long, unknown or revoked one. */
  async authenticate(token: string | null | undefined): Promise<Viewer | null> {
    if (!token || token.length > MAX_TOKEN_LENGTH) return null;
    return this.authenticateHash(hashToken(token));
  }

  /** The same, for a caller that already hashed the token (the response cache keys on the hash). */
  authenticateHash(tokenHash: string): Promise<Viewer | null> {
    return this.store.findViewerByTokenHash(tokenHash);
  }
}
