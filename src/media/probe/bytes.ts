/**
 * Tiny readers over a Uint8Array.
 *
 * Indexing a Uint8Array out of range yields `undefined`, which the bitwise operators below turn into 0,
 * so these helpers never throw: an out-of-range read returns garbage-but-finite numbers. Callers still
 * check lengths wherever the answer matters.
 */

export function u8(bytes: Uint8Array, offset: number): number {
  return bytes[offset] ?? 0;
}

export function u16be(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 8) | bytes[offset + 1]) & 0xffff;
}

export function u16le(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8)) & 0xffff;
}

export function u32be(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

export function u32le(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

/** Unsigned 64-bit big-endian as a number; may exceed Number.MAX_SAFE_INTEGER, so check with Number.isSafeInteger. */
export function u64be(bytes: Uint8Array, offset: number): number {
  return u32be(bytes, offset) * 2 ** 32 + u32be(bytes, offset + 4);
}

/** Unsigned 64-bit little-endian as a number; may exceed Number.MAX_SAFE_INTEGER, so check with Number.isSafeInteger. */
export function u64le(bytes: Uint8Array, offset: number): number {
  return u32le(bytes, offset + 4) * 2 ** 32 + u32le(bytes, offset);
}

/** `length` bytes at `offset` as Latin-1 text (truncated at the end of the buffer). */
export function ascii(bytes: Uint8Array, offset: number, length: number): string {
  let text = '';
  const end = Math.min(offset + length, bytes.length);
  for (let i = Math.max(offset, 0); i < end; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

/** True when `[offset, offset + length)` lies inside the buffer. */
export function fits(bytes: Uint8Array, offset: number, length: number): boolean {
  return offset >= 0 && length >= 0 && offset + length <= bytes.length;
}
