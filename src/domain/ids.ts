// Time-ordered ids (UUID version 7 layout): ids made later sort later, even within one millisecond,
// so "creation order" is the same as (createdAt, id) order for queues and keyset pages.
import { randomBytes } from 'node:crypto';

let lastMs = 0;
let sequence = 0;

export function newTimeOrderedId(now: number = Date.now()): string {
  const ms = Math.max(now, lastMs);
  sequence = ms === lastMs ? sequence + 1 : 0;
  lastMs = ms;
  if (sequence > 0xfff) {
    // 4096 ids in one millisecond: borrow the next millisecond to stay ordered.
    lastMs = ms + 1;
    sequence = 0;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8); // version 7, high bits of the sequence
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f); // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
