// uploadAudio as a browser sends it: a GraphQL multipart request (operations, map, one file part).
import { readFileSync } from 'node:fs';

export const UPLOAD_AUDIO = `mutation($file: File!) { uploadAudio(file: $file) {
  __typename
  ... on UploadAudioSuccess { audio { id fileName mimeType byteSize durationSeconds upstreamAssetId createdAt url } }
  ... on Error { code message }
  ... on ValidationError { fieldErrors { path message } }
  ... on UpstreamError { retryable }
} }`;

export function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/audio/${name}`, import.meta.url));
}

export async function uploadAudio(
  url: string,
  token: string,
  bytes: Uint8Array,
  fileName: string,
  query = UPLOAD_AUDIO,
): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query, variables: { file: null } }));
  form.set('map', JSON.stringify({ 0: ['variables.file'] }));
  form.set('0', new Blob([new Uint8Array(bytes)]), fileName);
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, body: await res.json() };
}
