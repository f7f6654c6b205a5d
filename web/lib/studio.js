// The studio's state and everything that changes it: the job cache, the live tray, the history, the connection,
// notifications. Components read `studio.state` and call its methods; `subscribe` tells them to render again.
import {
  CANCEL_MUTATION,
  DELETE_MUTATION,
  GENERATE_MUTATION,
  HISTORY_QUERY,
  JOB_SUBSCRIPTION,
  LIVE_SUBSCRIPTION,
  TRAY_QUERY,
  UPLOAD_AUDIO_MUTATION,
  VIEWER_QUERY,
} from './documents.js';
import { isTerminal } from './format.js';
import { ApiError } from './graphql.js';
import { JobCache, matchesFilter, newestFirst } from './jobs.js';
import { createLive } from './live.js';
import { loadLocal, saveLocal } from './session.js';

/** @typedef {import('./jobs.js').Job} Job */
/** @typedef {import('./jobs.js').JobFilter} JobFilter */
/** @typedef {import('./graphql.js').Api} Api */

export const PAGE_SIZE = 24;
/** Finished jobs the tray keeps before the oldest one leaves it (they all stay in the history). */
const TRAY_FINISHED_MAX = 8;

/**
 * @typedef {object} HistoryFilters what the filter bar shows
 * @property {string} search
 * @property {string} status '' | 'ACTIVE' | a JobStatus
 * @property {string} size '' | a VideoSize
 * @property {string} duration '' | '5' | '10'
 * @property {string} date '' | 'today' | '7d' | '30d' | 'custom'
 * @property {string} from yyyy-mm-dd (custom)
 * @property {string} to yyyy-mm-dd (custom)
 */

/** @type {HistoryFilters} */
export const NO_FILTERS = { search: '', status: '', size: '', duration: '', date: '', from: '', to: '' };

/**
 * @param {HistoryFilters} filters
 * @param {number} now
 * @returns {JobFilter}
 */
export function toJobFilter(filters, now = Date.now()) {
  /** @type {JobFilter} */
  const filter = {};
  if (filters.status === 'ACTIVE') filter.status = ['PENDING', 'QUEUED', 'IN_PROGRESS'];
  else if (filters.status) filter.status = [filters.status];
  if (filters.size) filter.size = [filters.size];
  if (filters.duration) filter.durationSeconds = [Number(filters.duration)];
  const search = filters.search.trim();
  if (search) filter.search = search;
  const day = 86_400_000;
  const startOfToday = new Date(now);
  startOfToday.setHours(0, 0, 0, 0);
  // The server's bounds are exclusive: one millisecond before the first instant that counts.
  const after = (/** @type {number} */ time) => new Date(time - 1).toISOString();
  if (filters.date === 'today') filter.createdAfter = after(startOfToday.getTime());
  else if (filters.date === '7d') filter.createdAfter = after(now - 7 * day);
  else if (filters.date === '30d') filter.createdAfter = after(now - 30 * day);
  else if (filters.date === 'custom') {
    if (filters.from) filter.createdAfter = after(new Date(`${filters.from}T00:00:00`).getTime());
    if (filters.to) {
      const end = new Date(`${filters.to}T00:00:00`);
      end.setDate(end.getDate() + 1);
      filter.createdBefore = end.toISOString();
    }
  }
  return filter;
}

/** @param {HistoryFilters} filters */
export const hasFilters = (filters) =>
  Boolean(filters.search.trim() || filters.status || filters.size || filters.duration || filters.date);

/**
 * @typedef {object} HistoryState
 * @property {HistoryFilters} filters
 * @property {JobFilter} filter
 * @property {string[]} ids
 * @property {boolean} hasNextPage
 * @property {string | null} endCursor
 * @property {number | null} totalCount
 * @property {'loading' | 'ready' | 'error'} status
 * @property {boolean} loadingMore
 * @property {string | null} error
 */

/**
 * @typedef {object} Toast
 * @property {number} id
 * @property {string} text
 * @property {'ok' | 'bad' | 'info'} tone
 * @property {string} [jobId]
 */

/**
 * @typedef {object} FormPreset values that "generate again with this seed" puts in the form
 * @property {number} nonce
 * @property {Partial<{ prompt: string, negativePrompt: string, size: string, durationSeconds: number, seed: string, enablePromptExpansion: boolean, audio: any }>} values
 */

export class Studio {
  /** @type {Set<() => void>} */
  #listeners = new Set();
  /** @type {import('./live.js').Live | null} */
  #live = null;
  /** @type {(() => void) | null} */
  #unsubscribeLive = null;
  #historyGeneration = 0;
  #stopped = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #resubscribeTimer;
  #toastId = 0;

  /**
   * @param {object} options
   * @param {Api} options.api
   * @param {string} options.token
   * @param {any} options.viewer
   * @param {any} options.model
   * @param {(reason: string) => void} options.onSignedOut
   */
  constructor({ api, token, viewer, model, onSignedOut }) {
    this.api = api;
    this.token = token;
    this.onSignedOut = onSignedOut;
    this.cache = new JobCache();
    /** @type {string} */
    this.trayKey = `tray.${viewer.id}`;
    this.state = {
      viewer,
      model,
      /** @type {import('./live.js').LiveStatus} */
      connection: 'connecting',
      /** @type {string[]} */
      trayIds: [],
      trayLoaded: false,
      /** @type {HistoryState} */
      history: {
        filters: NO_FILTERS,
        filter: {},
        ids: [],
        hasNextPage: false,
        endCursor: null,
        totalCount: null,
        status: 'loading',
        loadingMore: false,
        error: null,
      },
      /** @type {Toast[]} */
      toasts: [],
      /** @type {FormPreset | null} */
      formPreset: null,
    };
  }

  /** @param {() => void} listener */
  subscribe(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed() {
    for (const listener of [...this.#listeners]) listener();
  }

  start() {
    this.#live = createLive({
      token: this.token,
      onStatus: (connection) => {
        this.state = { ...this.state, connection };
        this.#changed();
      },
      onReconnected: () => void this.#catchUp(),
      onForbidden: () => this.signOut('The live connection refused this token: it is unknown or was revoked.'),
    });
    // Subscribe first, then read: a change between the two is seen at least once, and versions drop duplicates.
    this.#subscribeLive();
    void this.loadTray();
    void this.reloadHistory();
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#resubscribeTimer);
    this.#unsubscribeLive?.();
    this.#live?.dispose();
    this.#listeners.clear();
  }

  /** @param {string} [reason] */
  signOut(reason = '') {
    if (this.#stopped) return;
    this.stop();
    this.onSignedOut(reason);
  }

  /** For tests and debugging: drop the WebSocket as a lost network would. */
  dropConnection() {
    this.#live?.drop();
  }

  #subscribeLive() {
    if (this.#stopped || !this.#live) return;
    this.#unsubscribeLive = this.#live.subscribe(LIVE_SUBSCRIPTION, {}, {
      next: (data) => this.receive(data.videoJobsUpdated, { live: true }),
      // The stream never completes on its own; if it ends anyway (an error message), start it again.
      error: () => this.#resubscribeLater(),
      complete: () => this.#resubscribeLater(),
    });
  }

  #resubscribeLater() {
    if (this.#stopped) return;
    clearTimeout(this.#resubscribeTimer);
    this.#resubscribeTimer = setTimeout(() => {
      this.#unsubscribeLive?.();
      this.#subscribeLive();
      void this.#catchUp();
    }, 2000);
  }

  /** After a lost connection: read again what may have changed meanwhile. */
  async #catchUp() {
    await Promise.all([this.loadTray(), this.#refreshHistoryHead()]);
  }

  /**
   * Takes a job message (a query result, a mutation result, or a subscription message).
   * @param {Job} incoming
   * @param {{ live?: boolean }} [options]
   */
  receive(incoming, options = {}) {
    if (!incoming?.id) return;
    const { job, previous, applied } = this.cache.upsert(incoming);
    if (!applied) return;
    this.#placeInTray(job);
    this.#placeInHistory(job);
    if (previous && !isTerminal(previous.status) && isTerminal(job.status)) this.#announceEnd(job);
    else if (!previous && options.live && isTerminal(job.status)) this.#announceEnd(job);
    this.#changed();
  }

  /** @param {Job} job */
  #announceEnd(job) {
    const prompt = job.prompt.length > 48 ? `${job.prompt.slice(0, 47)}…` : job.prompt;
    if (job.status === 'SUCCEEDED') this.toast(`Video ready: “${prompt}”`, 'ok', job.id);
    else if (job.status === 'FAILED') this.toast(`Generation failed: ${job.error?.message ?? 'unknown error'}`, 'bad', job.id);
    else this.toast(`Canceled: “${prompt}”`, 'info', job.id);
  }

  // ---- live tray --------------------------------------------------------------------------------------------

  /** @param {Job} job */
  #placeInTray(job) {
    const ids = this.state.trayIds;
    if (ids.includes(job.id) || isTerminal(job.status)) return;
    this.#setTray([...ids, job.id]);
  }

  /** @param {string[]} ids */
  #setTray(ids) {
    const jobs = [...new Set(ids)].map((id) => this.cache.get(id)).filter((job) => job !== undefined);
    jobs.sort(newestFirst);
    let finished = 0;
    const kept = jobs.filter((job) => !isTerminal(job.status) || ++finished <= TRAY_FINISHED_MAX).map((job) => job.id);
    this.state = { ...this.state, trayIds: kept };
    saveLocal(this.trayKey, kept);
  }

  /** Reads every unfinished job and the jobs the tray showed before (they survive a reload). */
  async loadTray() {
    /** @type {string[]} */
    const remembered = loadLocal(this.trayKey, []);
    const ids = [...new Set([...remembered, ...this.state.trayIds, ...this.#unfinishedIds()])].slice(0, 60);
    try {
      const data = await this.api.request(TRAY_QUERY, { ids });
      if (this.#stopped) return;
      const active = data.active.edges.map((/** @type {any} */ edge) => edge.node);
      const known = data.known.filter((/** @type {any} */ node) => node?.id);
      for (const job of [...active, ...known]) this.receive(job);
      // Jobs that no longer exist (deleted elsewhere) leave the tray.
      const existing = new Set([...active, ...known].map((job) => job.id));
      const stillThere = [...ids, ...this.state.trayIds].filter((id) => existing.has(id));
      this.#setTray([...stillThere, ...active.map((/** @type {Job} */ job) => job.id)]);
      this.state = { ...this.state, trayLoaded: true };
      this.#changed();
    } catch (error) {
      if (this.#stopped) return;
      this.state = { ...this.state, trayLoaded: true };
      if (!(error instanceof ApiError && error.kind === 'unauthenticated')) this.toast(messageOf(error), 'bad');
      this.#changed();
    }
  }

  #unfinishedIds() {
    return this.cache
      .all()
      .filter((job) => !isTerminal(job.status))
      .map((job) => job.id);
  }

  /** @param {string} id */
  dismiss(id) {
    this.#setTray(this.state.trayIds.filter((other) => other !== id));
    this.#changed();
  }

  clearFinished() {
    this.#setTray(this.state.trayIds.filter((id) => !isTerminal(this.cache.get(id)?.status ?? 'SUCCEEDED')));
    this.#changed();
  }

  // ---- history ----------------------------------------------------------------------------------------------

  /** @param {Partial<HistoryFilters>} patch */
  setFilters(patch) {
    const filters = { ...this.state.history.filters, ...patch };
    this.state = { ...this.state, history: { ...this.state.history, filters } };
    void this.reloadHistory();
  }

  /** @param {Partial<HistoryState>} patch */
  #setHistory(patch) {
    this.state = { ...this.state, history: { ...this.state.history, ...patch } };
    this.#changed();
  }

  async reloadHistory() {
    const generation = ++this.#historyGeneration;
    const filter = toJobFilter(this.state.history.filters);
    this.#setHistory({ filter, status: 'loading', error: null, loadingMore: false });
    try {
      const data = await this.api.request(HISTORY_QUERY, { first: PAGE_SIZE, after: null, filter });
      if (generation !== this.#historyGeneration || this.#stopped) return;
      const page = data.videoJobs;
      const ids = page.edges.map((/** @type {any} */ edge) => this.#take(edge.node));
      const { hasNextPage, endCursor } = page.pageInfo;
      this.#setHistory({ ids, hasNextPage, endCursor, totalCount: page.totalCount, status: 'ready' });
      // A job created while the page was on its way: place it as a live update would.
      for (const job of this.cache.all()) this.#placeInHistory(job);
      this.#changed();
    } catch (error) {
      if (generation !== this.#historyGeneration || this.#stopped) return;
      this.#setHistory({ status: 'error', error: messageOf(error) });
    }
  }

  async loadMore() {
    const history = this.state.history;
    if (history.status !== 'ready' || history.loadingMore || !history.hasNextPage) return;
    const generation = this.#historyGeneration;
    this.#setHistory({ loadingMore: true, error: null });
    try {
      const data = await this.api.request(HISTORY_QUERY, { first: PAGE_SIZE, after: history.endCursor, filter: history.filter });
      if (generation !== this.#historyGeneration || this.#stopped) return;
      const page = data.videoJobs;
      const known = new Set(this.state.history.ids);
      const added = page.edges.map((/** @type {any} */ edge) => this.#take(edge.node)).filter((/** @type {string} */ id) => !known.has(id));
      this.#setHistory({
        ids: [...this.state.history.ids, ...added],
        hasNextPage: page.pageInfo.hasNextPage,
        endCursor: page.pageInfo.endCursor,
        totalCount: page.totalCount,
        loadingMore: false,
      });
    } catch (error) {
      if (generation !== this.#historyGeneration || this.#stopped) return;
      this.#setHistory({ loadingMore: false, error: messageOf(error) });
    }
  }

  /** After a reconnect: the first page again, to pick up jobs created or changed elsewhere meanwhile. */
  async #refreshHistoryHead() {
    const history = this.state.history;
    if (history.status !== 'ready') return;
    const generation = this.#historyGeneration;
    try {
      const data = await this.api.request(HISTORY_QUERY, { first: PAGE_SIZE, after: null, filter: history.filter });
      if (generation !== this.#historyGeneration || this.#stopped) return;
      for (const edge of data.videoJobs.edges) this.receive(edge.node);
      this.#setHistory({ totalCount: data.videoJobs.totalCount });
    } catch {
      // the next reconnect or reload tries again
    }
  }

  /**
   * Stores a job from a query without placing it anywhere (the caller does).
   * @param {Job} node
   * @returns {string}
   */
  #take(node) {
    const { job, previous } = this.cache.upsert(node);
    if (previous && !isTerminal(previous.status) && isTerminal(job.status)) this.#announceEnd(job);
    this.#placeInTray(job);
    return job.id;
  }

  /**
   * A job enters, leaves or moves in the loaded history as it would in a new query.
   * @param {Job} job
   */
  #placeInHistory(job) {
    const history = this.state.history;
    if (history.status !== 'ready') return;
    const at = history.ids.indexOf(job.id);
    const matches = matchesFilter(job, history.filter);
    if (at >= 0 && !matches) {
      const ids = history.ids.filter((id) => id !== job.id);
      this.state = { ...this.state, history: { ...history, ids, totalCount: Math.max(0, (history.totalCount ?? 1) - 1) } };
    } else if (at < 0 && matches) {
      const lastId = history.ids[history.ids.length - 1];
      const last = lastId ? this.cache.get(lastId) : undefined;
      // Older than every loaded job while more pages exist: a later page brings it.
      if (history.hasNextPage && last && newestFirst(job, last) > 0) return;
      const jobs = [...history.ids.map((id) => this.cache.get(id)).filter((j) => j !== undefined), job].sort(newestFirst);
      this.state = {
        ...this.state,
        history: { ...history, ids: jobs.map((j) => j.id), totalCount: (history.totalCount ?? 0) + 1 },
      };
    }
  }

  // ---- actions ----------------------------------------------------------------------------------------------

  /**
   * @param {Record<string, unknown>} input GenerateVideoInput
   * @returns {Promise<any>} the GenerateVideoResult member
   */
  async generate(input) {
    const data = await this.api.request(GENERATE_MUTATION, { input });
    const result = data.generateVideo;
    if (result.__typename === 'GenerateVideoSuccess') {
      this.receive(result.job);
      // Put it in the tray even when it ended already (a deduplicated request): the user just asked for it.
      if (!this.state.trayIds.includes(result.job.id)) this.#setTray([result.job.id, ...this.state.trayIds]);
      this.#changed();
    }
    return result;
  }

  /**
   * @param {string} id
   * @returns {Promise<{ ok: true } | { ok: false, message: string }>}
   */
  async cancel(id) {
    const data = await this.api.request(CANCEL_MUTATION, { id });
    const result = data.cancelVideoJob;
    if (result.__typename === 'CancelVideoJobSuccess') {
      this.receive(result.job);
      return { ok: true };
    }
    if (result.__typename === 'NotCancelableError' && result.refusedJob) this.receive(result.refusedJob);
    return { ok: false, message: result.message };
  }

  /**
   * @param {string} id
   * @returns {Promise<{ ok: true } | { ok: false, message: string }>}
   */
  async deleteJob(id) {
    const data = await this.api.request(DELETE_MUTATION, { id });
    const result = data.deleteVideoJob;
    if (result.__typename !== 'DeleteVideoJobSuccess') {
      const detail = result.fieldErrors?.map((/** @type {any} */ e) => e.message).join('; ');
      return { ok: false, message: detail ? `${result.message}: ${detail}` : result.message };
    }
    this.cache.remove(id);
    const history = this.state.history;
    if (history.ids.includes(id)) {
      this.state = {
        ...this.state,
        history: { ...history, ids: history.ids.filter((other) => other !== id), totalCount: Math.max(0, (history.totalCount ?? 1) - 1) },
      };
    }
    this.#setTray(this.state.trayIds.filter((other) => other !== id));
    this.#changed();
    return { ok: true };
  }

  /** @param {File} file */
  async uploadAudio(file) {
    const data = await this.api.upload(UPLOAD_AUDIO_MUTATION, file);
    return data.uploadAudio;
  }

  /**
   * Follows one job with jobUpdated (its events too) while the detail view shows it.
   * @param {string} id
   * @param {(error: unknown) => void} onError
   */
  watchJob(id, onError) {
    if (!this.#live) return () => {};
    return this.#live.subscribe(JOB_SUBSCRIPTION, { id }, {
      next: (data) => this.receive(data.jobUpdated, { live: true }),
      error: onError,
    });
  }

  async refreshViewer() {
    try {
      const data = await this.api.request(VIEWER_QUERY);
      this.state = { ...this.state, viewer: data.viewer };
      this.#changed();
    } catch {
      // shown again at the next success
    }
  }

  /** @param {FormPreset['values']} values */
  fillForm(values) {
    this.state = { ...this.state, formPreset: { nonce: Date.now(), values } };
    this.#changed();
  }

  // ---- notifications ----------------------------------------------------------------------------------------

  /**
   * @param {string} text
   * @param {Toast['tone']} [tone]
   * @param {string} [jobId]
   */
  toast(text, tone = 'info', jobId) {
    const id = ++this.#toastId;
    this.state = { ...this.state, toasts: [...this.state.toasts.slice(-2), { id, text, tone, jobId }] };
    this.#changed();
    setTimeout(() => this.closeToast(id), tone === 'bad' ? 9000 : tone === 'ok' ? 6000 : 4000);
  }

  /** @param {number} id */
  closeToast(id) {
    if (!this.state.toasts.some((t) => t.id === id)) return;
    this.state = { ...this.state, toasts: this.state.toasts.filter((t) => t.id !== id) };
    this.#changed();
  }

  /** Unfinished jobs the gateway counts against the viewer's limit (all of them are in the cache). */
  activeCount() {
    return this.#unfinishedIds().length;
  }
}

/** @param {unknown} error */
export function messageOf(error) {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}
