// The Scenario API as the engine sees it, with the bytes each mirroring download stored counted for /metrics.
// Request counts and latencies come from the client's own observer; only the downloads' sizes need this wrapper.
import type { DownloadBody, ScenarioApi } from '../scenario/types.ts';
import type { GatewayMetrics } from './metrics.ts';

export class MeteredScenario implements ScenarioApi {
  constructor(
    private readonly inner: ScenarioApi,
    private readonly metrics: GatewayMetrics,
  ) {}

  submitJob: ScenarioApi['submitJob'] = (modelId, body) => this.inner.submitJob(modelId, body);
  getJob: ScenarioApi['getJob'] = (jobId) => this.inner.getJob(jobId);
  listJobs: ScenarioApi['listJobs'] = (query) => this.inner.listJobs(query);
  cancelJob: ScenarioApi['cancelJob'] = (jobId) => this.inner.cancelJob(jobId);
  getAsset: ScenarioApi['getAsset'] = (assetId) => this.inner.getAsset(assetId);
  uploadFile: ScenarioApi['uploadFile'] = (file, options) => this.inner.uploadFile(file, options);

  async download<T>(url: string, consume: (body: DownloadBody) => Promise<T>): Promise<T> {
    let bytes = 0;
    let kind: 'video' | 'thumbnail' = 'video';
    const result = await this.inner.download(url, (body) => {
      // Mirroring downloads videos and their thumbnails (src/engine/mirror.ts): only the thumbnails are images.
      if (body.contentType?.startsWith('image/')) kind = 'thumbnail';
      return consume({ ...body, chunks: counted(body.chunks, (chunk) => (bytes += chunk.byteLength)) });
    });
    // Counted once stored: a download that failed midway stored nothing.
    this.metrics.addMirrorBytes(kind, bytes);
    return result;
  }
}

async function* counted(chunks: AsyncIterable<Uint8Array>, count: (chunk: Uint8Array) => void): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const chunk of chunks) {
    count(chunk);
    yield chunk;
  }
}
