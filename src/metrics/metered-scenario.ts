// The Scenario API as the engine sees it, with the bytes each mirroring download stored counted for /metrics.
// Request counts and latencies come from the client's own observer; only the downloads' sizes need this wrapper.
import type { DownloadResult, ScenarioApi } from '../scenario/types.ts';
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

  async downloadToFile(url: string, destPath: string): Promise<DownloadResult> {
    const result = await this.inner.downloadToFile(url, destPath);
    // Mirroring writes `<index>.mp4` and `<index>.jpg` (src/engine/mirror.ts).
    this.metrics.addMirrorBytes(destPath.endsWith('.jpg') ? 'thumbnail' : 'video', result.bytes);
    return result;
  }
}
