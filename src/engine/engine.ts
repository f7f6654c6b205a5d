// The job engine: accepts jobs, admits them fairly, submits each upstream at most once, follows it,
// stores its outputs, and resumes all of that after a restart. One scheduler loop drives every job;
// there is no timer per job. Nothing here knows GraphQL.
import { randomInt } from 'node:crypto';
import type { FieldError, GenerateVideoRequest } from '../domain/generate-request.ts';
import { normalizeGenerateRequest } from '../domain/generate-request.ts';
import { newTimeOrderedId } from '../domain/ids.ts';
import { isTerminal, sameRequest, WAN_T2V, type JobView, type VideoJob } from '../domain/video-job.ts';
import type { JobEventBus } from '../events/job-event-bus.ts';
import type { Logger } from '../log.ts';
import { mediaKeys, type MediaStorage } from '../media/storage/index.ts';
import { ScenarioError, type ScenarioApi } from '../scenario/types.ts';
import type { Store } from '../store/store.ts';
import { storeAudio, type StoreAudioOutcome } from './audio-import.ts';
import { commitJobChange, commitJobChanges, endingPatch, publishJob, type EngineContext, type EngineSettings } from './context.ts';
import { mirrorAssets } from './mirror.ts';
import { applyUpstreamJob, pollJobs } from './poll.ts';
import { InProcessRateLimiter, type GenerateRateLimiter } from './rate-limiter.ts';
import { reconcileSubmit } from './reconcile.ts';
import { RunProgress } from './run-progress.ts';
import { RunTimeHistory } from './run-time-history.ts';
import { submitJob } from './submit.ts';
import { UpstreamHealth } from './upstream-health.ts';

export interface EngineDependencies {
  store: Store;
  scenario: ScenarioApi;
  media: MediaStorage;
  bus: JobEventBus;
  log: Logger;
  settings: EngineSettings;
  /** How often the scheduler looks for due work when nothing wakes it. */
  tickMs?: number;
  now?: () => number;
  random?: () => number;
  /** Told how late (ms after its nextCheckAt) each due job's poll starts, for the poll-lag metric. */
  onPollLag?: (lagMs: number) => void;
  /** The per-user generate limit; in this process unless replicas share one (Redis). */
  rateLimiter?: GenerateRateLimiter;
}

export type CreateJobOutcome =
  | { kind: 'created'; job: VideoJob }
  | { kind: 'deduplicated'; job: VideoJob }
  | { kind: 'invalid'; fieldErrors: FieldError[] }
  | { kind: 'audioNotFound' }
  | { kind: 'quota'; limit: number; retryAfterSeconds: number }
  | { kind: 'rateLimited'; retryAfterSeconds: number }
  | { kind: 'idempotencyConflict'; existingJob: VideoJob }
  | { kind: 'upstreamRefused'; message: string };

export type CancelOutcome =
  | { kind: 'canceled'; job: VideoJob }
  | { kind: 'notFound' }
  | { kind: 'notCancelable'; job: VideoJob; reason: string };

export type DeleteOutcome = { kind: 'deleted'; jobId: string } | { kind: 'notFound' } | { kind: 'notTerminal'; job: VideoJob };

/** Followed jobs one poll round may answer (as many as its list pages can show). */
const MAX_FOLLOWED_PER_ROUND = 2_000;
const MAX_PARALLEL = { poll: 2, mirror: 4, reconcile: 2 } as const;
/** Stop waits this long for running steps; their state is safe in the database either way. */
const STOP_GRACE_MS = 8_000;
const UNEXPECTED_ERROR_RETRY_MS = 30_000;
const QUOTA_RETRY_WITHOUT_HISTORY_SECONDS = 60;
/** Leases of running steps are renewed this often: three renewals fit in one lease (DEFAULT_LEASE_MS). */
const LEASE_RENEW_MS = 3_000;

export class VideoJobEngine {
  private readonly ctx: EngineContext;
  private readonly tickMs: number;
  private readonly onPollLag: ((lagMs: number) => void) | undefined;
  private readonly rateLimiter: GenerateRateLimiter;
  /** Jobs this replica's running steps hold leases on. */
  private readonly busy = new Set<string>();
  private renewTimer: NodeJS.Timeout | null = null;
  private readonly tasks = new Set<Promise<void>>();
  private readonly activeSteps = { poll: 0, mirror: 0, reconcile: 0, submit: 0 };
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeSleeper: (() => void) | null = null;
  /** A wake-up that came while the loop was busy: the next sleep ends at once. */
  private wakeRequested = false;

  constructor(deps: EngineDependencies) {
    const now = deps.now ?? Date.now;
    this.ctx = {
      store: deps.store,
      scenario: deps.scenario,
      media: deps.media,
      bus: deps.bus,
      log: deps.log,
      settings: deps.settings,
      history: new RunTimeHistory(),
      runs: new RunProgress(),
      health: new UpstreamHealth(now),
      now,
      random: deps.random ?? Math.random,
    };
    this.tickMs = deps.tickMs ?? 250;
    this.onPollLag = deps.onPollLag;
    this.rateLimiter = deps.rateLimiter ?? new InProcessRateLimiter(deps.settings.generateRateLimitPerMinute);
  }

  /** Loads the run-time history, brings every unfinished job back into the schedule, and starts the loop. */
  async start(): Promise<void> {
    if (this.running) return;
    this.ctx.history = new RunTimeHistory(await this.ctx.store.recentRunDurations(200));
    const resumed = await this.resumeUnfinishedJobs();
    this.ctx.log.info({ resumed }, 'job engine started');
    this.running = true;
    this.loopDone = this.loop();
    this.renewTimer = setInterval(() => void this.renewLeases(), LEASE_RENEW_MS);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loopDone;
    const grace = new Promise<void>((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref());
    await Promise.race([Promise.allSettled([...this.tasks]), grace]);
    clearInterval(this.renewTimer!);
    // Steps cut short keep their leases only until they expire: another replica (or the next start) takes over then.
    this.ctx.log.info({ unfinishedSteps: this.tasks.size }, 'job engine stopped');
  }

  /** Asks the scheduler to look for work now (a job was created, canceled, or left upstream). */
  wake(): void {
    if (this.wakeSleeper) this.wakeSleeper();
    else this.wakeRequested = true;
  }

  async createJob(ownerId: string, request: GenerateVideoRequest): Promise<CreateJobOutcome> {
    const normalized = normalizeGenerateRequest(request, () => randomInt(0, WAN_T2V.maxSeed + 1));
    if (!normalized.ok) return { kind: 'invalid', fieldErrors: normalized.fieldErrors };
    const { params, idempotencyKey } = normalized;

    // A repeated key answers with its job before any limit applies (CONTRACT.md §7).
    if (idempotencyKey !== null) {
      const existing = await this.ctx.store.findJobByIdempotencyKey(ownerId, idempotencyKey);
      if (existing) return this.repeatedKey(existing, params);
    }
    const now = this.ctx.now();
    // Recorded by the check itself, so concurrent requests cannot all pass it; given back unless a job is created.
    const retryAfterSeconds = await this.rateLimiter.tryAcquire(ownerId, now);
    if (retryAfterSeconds > 0) return { kind: 'rateLimited', retryAfterSeconds };
    let created = false;
    try {
      const refusal = this.ctx.health.current();
      if (refusal) return { kind: 'upstreamRefused', message: refusal.message };
      if (params.audioId !== null) {
        const [audio] = await this.ctx.store.getAudios([params.audioId]);
        if (!audio || audio.ownerId !== ownerId) return { kind: 'audioNotFound' };
      }

      const result = await this.ctx.store.createJob(
        { id: newTimeOrderedId(), ownerId, idempotencyKey, ...params },
        { maxActiveJobs: this.ctx.settings.maxActiveJobsPerUser },
      );
      if (result.kind === 'existing') return this.repeatedKey(result.job, params);
      if (result.kind === 'quota') {
        return { kind: 'quota', limit: this.ctx.settings.maxActiveJobsPerUser, retryAfterSeconds: await this.soonestFinish(ownerId) };
      }
      created = true;
      publishJob(this.ctx, result.job);
      this.ctx.log.info({ jobId: result.job.id, userId: ownerId }, 'job accepted');
      this.wake();
      return { kind: 'created', job: result.job };
    } finally {
      if (!created) await this.rateLimiter.release(ownerId, now);
    }
  }

  private repeatedKey(existing: VideoJob, params: Parameters<typeof sameRequest>[1]): CreateJobOutcome {
    return sameRequest(existing, params) ? { kind: 'deduplicated', job: existing } : { kind: 'idempotencyConflict', existingJob: existing };
  }

  /**
   * Seconds until the owner's soonest active job should finish, by the history; without history, a minute:
   * a hint of when asking again is worth it, so clients need no special case for "unknown".
   */
  private async soonestFinish(ownerId: string): Promise<number> {
    const page = await this.ctx.store.listJobs({
      ownerId,
      filter: { status: ['PENDING', 'QUEUED', 'IN_PROGRESS'] },
      order: 'CREATED_AT_ASC',
      limit: this.ctx.settings.maxActiveJobsPerUser,
    });
    const etas = page.jobs.map((job) => this.etaSeconds(job)).filter((eta): eta is number => eta !== null);
    return etas.length > 0 ? Math.max(1, Math.min(...etas)) : QUOTA_RETRY_WITHOUT_HISTORY_SECONDS;
  }

  async cancelJob(ownerId: string, jobId: string): Promise<CancelOutcome> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const job = await this.ownedJob(ownerId, jobId);
      if (!job) return { kind: 'notFound' };
      if (isTerminal(job.status)) return { kind: 'notCancelable', job, reason: `The job has already ended (${job.status}).` };
      switch (job.phase) {
        case 'waiting': {
          const now = this.ctx.now();
          // Whichever replica holds the job for its submit: nothing was sent yet (the intent is written before the request
          // leaves, and this change makes that write fail its compare-and-set), so a PENDING job cancels at once.
          const canceled = await commitJobChange(this.ctx, job, endingPatch(now, 'CANCELED'), {
            message: 'Canceled before it was sent upstream',
            overrideLease: true,
          });
          if (!canceled) continue; // changed meanwhile (perhaps its intent was written): look again
          this.wake();
          return { kind: 'canceled', job: canceled };
        }
        case 'submitting':
          return { kind: 'notCancelable', job, reason: 'The job is being sent upstream and can no longer be recalled.' };
        case 'mirroring':
          return { kind: 'notCancelable', job, reason: 'The job has finished upstream; its video is being stored.' };
        case 'polling':
          return this.cancelUpstream(job);
      }
    }
    const job = await this.ownedJob(ownerId, jobId);
    return job ? { kind: 'notCancelable', job, reason: 'The job is changing; try again.' } : { kind: 'notFound' };
  }

  private async cancelUpstream(job: VideoJob): Promise<CancelOutcome> {
    try {
      const upstream = await this.ctx.scenario.cancelJob(job.upstreamJobId!);
      const updated = upstream.status === 'canceled' ? await applyUpstreamJob(this.ctx, job, upstream) : null;
      // Accepted but not yet confirmed: the poller sees the outcome.
      return { kind: 'canceled', job: updated ?? (await this.ctx.store.getJob(job.id)) ?? job };
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      const reason =
        error.kind === 'http'
          ? `Upstream refused to cancel: ${error.reason ?? `HTTP ${error.status}`}. The job runs on.`
          : 'Upstream did not answer the cancel request. The job runs on.';
      return { kind: 'notCancelable', job, reason };
    }
  }

  async deleteJob(ownerId: string, jobId: string): Promise<DeleteOutcome> {
    const job = await this.ownedJob(ownerId, jobId);
    if (!job) return { kind: 'notFound' };
    if (!isTerminal(job.status)) return { kind: 'notTerminal', job };
    await this.ctx.store.deleteJob(job.id);
    await this.ctx.media.removeAll(mediaKeys.jobOutputs(job.id));
    this.ctx.log.info({ jobId: job.id, userId: ownerId }, 'job deleted');
    return { kind: 'deleted', jobId: job.id };
  }

  async uploadAudio(ownerId: string, file: { fileName: string; bytes: Uint8Array }): Promise<StoreAudioOutcome> {
    return storeAudio(this.ctx, ownerId, file);
  }

  /** Computed when read, from the gateway's own history of similar jobs; null when unknown or terminal. */
  etaSeconds(job: JobView): number | null {
    if (isTerminal(job.status)) return null;
    if (job.phase === 'mirroring') return 5;
    const median = this.ctx.history.medianSeconds(job.size, job.durationSeconds);
    if (median === null) return null;
    if (job.submittedAt !== null) return Math.max(1, Math.round(median - (this.ctx.now() - job.submittedAt) / 1000));
    const rounds = Math.ceil((job.queuePosition ?? 1) / this.ctx.settings.upstreamMaxInFlight);
    return Math.round(median * (rounds + 1));
  }

  private async ownedJob(ownerId: string, jobId: string): Promise<VideoJob | null> {
    const job = await this.ctx.store.getJob(jobId);
    return job && job.ownerId === ownerId ? job : null;
  }

  /**
   * After a restart of the whole gateway, whatever the schedule said, every unfinished job is looked at now (resume
   * within 5 s), in one transaction. A replica that joins live ones leaves the schedule alone: they follow the jobs
   * already, and a rolling restart must not make every job due at once.
   */
  private async resumeUnfinishedJobs(): Promise<number> {
    const others = (await this.ctx.store.listLiveReplicas()).filter((replica) => replica.instanceId !== this.ctx.store.instanceId);
    if (others.length > 0) return 0;
    const now = this.ctx.now();
    const unfinished = await this.ctx.store.listUnfinishedJobs();
    const rescheduled = unfinished.filter((job) => job.phase !== 'waiting' && (job.nextCheckAt === null || job.nextCheckAt > now));
    await commitJobChanges(this.ctx, rescheduled.map((job) => ({ job, patch: { nextCheckAt: now } })));
    return unfinished.length;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        await this.admitWaitingJobs();
        await this.startDueSteps();
      } catch (error) {
        this.ctx.log.error({ err: error }, 'scheduler tick failed');
      }
      await this.sleep(this.tickMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakeRequested) {
      this.wakeRequested = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleeper = () => {
        this.wakeSleeper = null;
        done();
      };
    });
  }

  /**
   * Submits as many waiting jobs as the gateway-wide free slots allow, round-robin across owners (the store counts,
   * orders and leases them in one locked transaction), and renumbers the rest of the queue.
   */
  private async admitWaitingJobs(): Promise<void> {
    const { admitted, queue } = await this.ctx.store.claimAdmissions(this.ctx.settings.upstreamMaxInFlight);
    for (const job of admitted) this.runStep('submit', job, () => submitJob(this.ctx, job).then(() => undefined));
    const renumbered = queue.flatMap((job, index) => (job.queuePosition === index + 1 ? [] : [{ job, patch: { queuePosition: index + 1 } }]));
    if (renumbered.length > 0) await commitJobChanges(this.ctx, renumbered);
  }

  private async startDueSteps(): Promise<void> {
    const now = this.ctx.now();
    const free = (kind: keyof typeof MAX_PARALLEL) => MAX_PARALLEL[kind] - this.activeSteps[kind];
    for (const job of await this.ctx.store.claimDueJobs({ phases: ['mirroring'], dueBy: now, limit: free('mirror') })) {
      this.runStep('mirror', job, () => mirrorAssets(this.ctx, job));
    }
    for (const job of await this.ctx.store.claimDueJobs({ phases: ['submitting'], dueBy: now, limit: free('reconcile') })) {
      this.runStep('reconcile', job, () => reconcileSubmit(this.ctx, job));
    }
    if (free('poll') <= 0) return;
    const polling = await this.ctx.store.claimDueJobs({ phases: ['polling'], dueBy: now, limit: MAX_FOLLOWED_PER_ROUND });
    if (polling.length === 0) return;
    // Every other followed job no replica is polling now may be answered by the same round of list calls.
    const others = await this.ctx.store.claimDueJobs({
      phases: ['polling'],
      dueBy: Number.MAX_SAFE_INTEGER,
      limit: MAX_FOLLOWED_PER_ROUND - polling.length,
    });
    for (const job of polling) this.onPollLag?.(now - (job.nextCheckAt ?? now));
    this.runBatch('poll', [...polling, ...others], () => pollJobs(this.ctx, polling, others));
  }

  private runStep(kind: keyof VideoJobEngine['activeSteps'], job: VideoJob, step: () => Promise<void>): void {
    this.runBatch(kind, [job], step);
  }

  /** Runs a step in the background on jobs it holds leases on (renewed meanwhile), and gives the leases up after. */
  private runBatch(kind: keyof VideoJobEngine['activeSteps'], jobs: VideoJob[], step: () => Promise<void>): void {
    for (const job of jobs) this.busy.add(job.id);
    this.activeSteps[kind]++;
    const task = step()
      .catch((error: unknown) => this.deferAfterUnexpectedError(kind, jobs, error))
      .then(() => {
        // Out of the renewals first: a renewal racing the release would take the released leases for lost ones.
        for (const job of jobs) this.busy.delete(job.id);
        return this.ctx.store.releaseLeases(jobs.map((job) => job.id));
      })
      .catch((error: unknown) => this.ctx.log.warn({ err: error, step: kind }, 'leases not released; they expire on their own'))
      .finally(() => {
        for (const job of jobs) this.busy.delete(job.id);
        this.activeSteps[kind]--;
        this.tasks.delete(task);
        // A job that left upstream frees a slot; a finished step may have made more work due.
        this.wake();
      });
    this.tasks.add(task);
  }

  /** Keeps the leases of running steps alive; a lease found lost means another replica took the job over. */
  private async renewLeases(): Promise<void> {
    const held = [...this.busy];
    if (held.length === 0) return;
    try {
      const renewed = new Set(await this.ctx.store.renewLeases(held));
      const lost = held.filter((id) => !renewed.has(id) && this.busy.has(id));
      if (lost.length > 0) this.ctx.log.warn({ jobIds: lost }, 'leases lost: another replica took these jobs over');
    } catch (error) {
      this.ctx.log.warn({ err: error }, 'leases not renewed');
    }
  }

  /** A bug or an unexpected failure must not spin the scheduler: the jobs are looked at again later. */
  private async deferAfterUnexpectedError(kind: string, jobs: VideoJob[], error: unknown): Promise<void> {
    this.ctx.log.error({ err: error, step: kind, jobIds: jobs.map((j) => j.id) }, 'engine step failed unexpectedly');
    const later = this.ctx.now() + UNEXPECTED_ERROR_RETRY_MS;
    const current = await this.ctx.store.getJobs(jobs.map((job) => job.id));
    await Promise.allSettled(current.map((job) => job && commitJobChange(this.ctx, job, { nextCheckAt: later })));
  }
}
