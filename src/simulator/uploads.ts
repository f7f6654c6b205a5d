// Simulated multipart uploads (SCENARIO-API.md §5.3): pending → parts PUT → complete → validating → imported | failed.
// Like jobs, the import is settled when the upload is read, once `importMs` has passed since completion.

export const UPLOAD_CONTENT_TYPES = ['audio/mpeg', 'audio/mp3', 'audio/wav', 'audio/x-wav', 'audio/wave', 'audio/ogg', 'audio/m4a', 'audio/mp4', 'audio/x-m4a'];
/** The Wan audio input's documented cap (SCENARIO-API.md §8.2). */
export const MAX_UPLOAD_BYTES = 15 * 1024 * 1024;
const MAX_PARTS = 10_000;

export interface SimUpload {
  id: string;
  jobId: string;
  fileName: string;
  contentType: string;
  kind: 'audio';
  fileSize: number;
  partCount: number;
  parts: Map<number, Buffer>;
  status: 'pending' | 'validating' | 'imported' | 'failed';
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
  entityId: string | null;
  errorMessage: string | null;
}

export type UploadRequest = Pick<SimUpload, 'fileName' | 'contentType' | 'kind' | 'fileSize' | 'partCount'>;

/** Checks `POST /uploads`'s body; a string is the 400 reason. */
export function checkUploadRequest(body: Record<string, unknown>): UploadRequest | string {
  const { fileName, contentType, kind, fileSize, parts } = body;
  if (typeof fileName !== 'string' || fileName.trim() === '' || fileName.length > 255) return 'fileName is required';
  if (typeof contentType !== 'string' || !UPLOAD_CONTENT_TYPES.includes(contentType)) {
    return `contentType must be one of ${UPLOAD_CONTENT_TYPES.join(', ')}`;
  }
  if (kind !== 'audio') return 'kind must be audio';
  if (typeof fileSize !== 'number' || !Number.isInteger(fileSize) || fileSize < 1 || fileSize > MAX_UPLOAD_BYTES) {
    return `fileSize must be an integer between 1 and ${MAX_UPLOAD_BYTES}`;
  }
  const partCount = parts ?? 1;
  if (typeof partCount !== 'number' || !Number.isInteger(partCount) || partCount < 1 || partCount > MAX_PARTS) {
    return `parts must be an integer between 1 and ${MAX_PARTS}`;
  }
  return { fileName, contentType, kind, fileSize, partCount };
}

/** Stores one part; a string is the 400 reason. Parts may be sent again (S3 keeps the last). */
export function putUploadPart(upload: SimUpload, partNumber: number, bytes: Buffer, now: number): string | null {
  if (upload.status !== 'pending') return 'Upload is already completed';
  if (partNumber < 1 || partNumber > upload.partCount) return `Part ${partNumber} does not exist`;
  const others = [...upload.parts].reduce((sum, [n, part]) => (n === partNumber ? sum : sum + part.length), 0);
  if (others + bytes.length > upload.fileSize) return 'Parts exceed the declared fileSize';
  upload.parts.set(partNumber, bytes);
  upload.updatedAt = now;
  return null;
}

/** `{"action":"complete"}`; a string is the 400 reason. Completing twice is harmless. */
export function completeUpload(upload: SimUpload, now: number): string | null {
  if (upload.status !== 'pending') return null;
  const missing = Array.from({ length: upload.partCount }, (_, i) => i + 1).filter((n) => !upload.parts.has(n));
  if (missing.length > 0) return `Missing parts: ${missing.slice(0, 10).join(', ')}`;
  upload.status = 'validating';
  upload.completedAt = now;
  upload.updatedAt = now;
  return null;
}

/**
 * Settles a validating upload whose import time has come: a size mismatch (or `[sim:fail]` in the file name) fails it,
 * anything else becomes an asset through `importAsset`, which returns the new asset id.
 */
export function settleUpload(upload: SimUpload, now: number, importMs: number, importAsset: (bytes: Buffer) => string): void {
  if (upload.status !== 'validating' || upload.completedAt === null || now < upload.completedAt + importMs) return;
  const bytes = Buffer.concat(Array.from({ length: upload.partCount }, (_, i) => upload.parts.get(i + 1)!));
  upload.parts.clear();
  upload.updatedAt = upload.completedAt + importMs;
  if (bytes.length !== upload.fileSize) {
    upload.status = 'failed';
    upload.errorMessage = `File size mismatch: declared ${upload.fileSize} bytes, received ${bytes.length}`;
  } else if (upload.fileName.includes('[sim:fail]')) {
    upload.status = 'failed';
    upload.errorMessage = 'Simulated import failure: the file could not be decoded';
  } else {
    upload.status = 'imported';
    upload.entityId = importAsset(bytes);
  }
}

export function uploadToWire(upload: SimUpload, partUrl: (partNumber: number) => { url: string; expires: string }): Record<string, unknown> {
  return {
    id: upload.id,
    status: upload.status,
    fileName: upload.fileName,
    contentType: upload.contentType,
    kind: upload.kind,
    fileSize: upload.fileSize,
    parts:
      upload.status === 'pending'
        ? Array.from({ length: upload.partCount }, (_, i) => ({ number: i + 1, ...partUrl(i + 1) }))
        : [],
    jobId: upload.jobId,
    entityId: upload.entityId,
    ...(upload.errorMessage ? { errorMessage: upload.errorMessage } : {}),
    createdAt: new Date(upload.createdAt).toISOString(),
    updatedAt: new Date(upload.updatedAt).toISOString(),
  };
}
