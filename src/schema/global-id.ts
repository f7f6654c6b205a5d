// Opaque global ids (plugin-relay's encoding, base64 of `Type:id`). Anything that does not decode to the expected
// type is treated like an unknown id: the caller answers null or NotFoundError, never an error that tells them apart.
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { hasNul } from '../domain/generate-request.ts';

export const NODE_TYPES = ['VideoJob', 'VideoAsset', 'AudioAsset'] as const;
export type NodeTypeName = (typeof NODE_TYPES)[number];

export function toGlobalId(type: NodeTypeName | 'User', id: string): string {
  return encodeGlobalID(type, id);
}

export function decodeNodeId(globalId: string): { typename: NodeTypeName; id: string } | null {
  if (globalId.length > 512) return null;
  try {
    const { typename, id } = decodeGlobalID(globalId);
    // An id no store could hold (NUL: PostgreSQL text refuses it) names nothing.
    if (hasNul(id)) return null;
    return (NODE_TYPES as readonly string[]).includes(typename) ? { typename: typename as NodeTypeName, id } : null;
  } catch {
    return null;
  }
}

/** The local id inside `globalId` when it names a node of `type`, else null. */
export function localId(globalId: string, type: NodeTypeName): string | null {
  const decoded = decodeNodeId(globalId);
  return decoded && decoded.typename === type ? decoded.id : null;
}
