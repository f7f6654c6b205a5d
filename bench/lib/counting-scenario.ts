// Wraps a ScenarioApi and attributes every upstream request to the upstream job it served, as CONTRACT.md §5
// counts them: the submit, the job's own reads, its asset reads and downloads, and each list call divided among
// the jobs it reported.
import type { DownloadBody, ScenarioApi, SubmitResult, UpstreamAsset, UpstreamJob, UpstreamJobList } from '../../src/scenario/types.ts';

export class CountingScenarioApi implements ScenarioApi {
  /** upstream job id → requests attributed to it. */
  readonly requestsByJob = new Map<string, number>();
  /** When the gateway first saw each job as `success` (its clock). */
  readonly successSeenAt = new Map<string, number>();
  private readonly jobOfAsset = new Map<string, string>();
  private readonly jobOfUrl = new Map<string, string>();

  constructor(
    private readonly inner: ScenarioApi,
    private readonly now: () => number,
  ) {}

  private add(jobId: string | undefined, amount: number) {
    if (jobId) this.requestsByJob.set(jobId, (this.requestsByJob.get(jobId) ?? 0) + amount);
  }

  private seen(job: UpstreamJob) {
    for (const assetId of job.assetIds) this.jobOfAsset.set(assetId, job.jobId);
    if (job.status === 'success' && !this.successSeenAt.has(job.jobId)) this.successSeenAt.set(job.jobId, this.now());
  }

  async submitJob(modelId: string, body: Record<string, unknown>): Promise<SubmitResult> {
    const result = await this.inner.submitJob(modelId, body);
    this.add(result.job.jobId, 1);
    return result;
  }

  async getJob(jobId: string): Promise<UpstreamJob> {
    this.add(jobId, 1);
    const job = await this.inner.getJob(jobId);
    this.seen(job);
    return job;
  }

  async listJobs(query: Parameters<ScenarioApi['listJobs']>[0]): Promise<UpstreamJobList> {
    const list = await this.inner.listJobs(query);
    const ours = list.jobs.filter((job) => this.requestsByJob.has(job.jobId));
    for (const job of ours) {
      this.add(job.jobId, 1 / ours.length);
      this.seen(job);
    }
    return list;
  }

  cancelJob(jobId: string): Promise<UpstreamJob> {
    this.add(jobId, 1);
    return this.inner.cancelJob(jobId);
  }

  async getAsset(assetId: string): Promise<UpstreamAsset> {
    const jobId = this.jobOfAsset.get(assetId);
    this.add(jobId, 1);
    const asset = await this.inner.getAsset(assetId);
    if (jobId) {
      if (asset.url) this.jobOfUrl.set(asset.url, jobId);
      if (asset.thumbnailUrl) this.jobOfUrl.set(asset.thumbnailUrl, jobId);
    }
    return asset;
  }

  uploadFile(file: Parameters<ScenarioApi['uploadFile']>[0], options?: Parameters<ScenarioApi['uploadFile']>[1]): Promise<string> {
    return this.inner.uploadFile(file, options);
  }

  download<T>(url: string, consume: (body: DownloadBody) => Promise<T>): Promise<T> {
    this.add(this.jobOfUrl.get(url), 1);
    return this.inner.download(url, consume);
  }
}
