// The history: every job, newest first, page after page as you scroll (Relay connection, first/after), with
// filters for status, size, duration and date, and a search over prompts. Live updates add, move or drop cards as a
// new query would.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { useDebounced } from '../lib/hooks.js';
import { SIZES, plural } from '../lib/format.js';
import { NO_FILTERS, hasFilters } from '../lib/studio.js';
import { JobCard } from './job-card.js';
import { IconAlert, IconFilm, IconSearch } from './icons.js';

/**
 * @param {{ studio: import('../lib/studio.js').Studio }} props
 */
export function History({ studio }) {
  const { history, model } = studio.state;
  const { filters } = history;
  const [search, setSearch] = useState(filters.search);
  const settledSearch = useDebounced(search, 300);
  const sentinel = useRef(/** @type {HTMLDivElement | null} */ (null));

  useEffect(() => {
    if (settledSearch !== studio.state.history.filters.search) studio.setFilters({ search: settledSearch });
  }, [settledSearch, studio]);

  // Infinite scroll: load the next page when the end of the list comes within a screen of the viewport.
  useEffect(() => {
    const element = sentinel.current;
    if (!element || typeof IntersectionObserver === 'undefined') return undefined;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void studio.loadMore();
    }, { rootMargin: '0px 0px 600px 0px' });
    observer.observe(element);
    return () => observer.disconnect();
  }, [studio]);

  // A page that did not fill the screen leaves the sentinel in view: the observer will not fire again by itself.
  useEffect(() => {
    const element = sentinel.current;
    if (!element || history.status !== 'ready' || !history.hasNextPage || history.loadingMore || history.error) return;
    if (element.getBoundingClientRect().top < window.innerHeight + 600) void studio.loadMore();
  }, [history.ids.length, history.hasNextPage, history.loadingMore, history.status, history.error, studio]);

  /** @param {Partial<typeof filters>} patch */
  const set = (patch) => studio.setFilters(patch);
  const clear = () => {
    setSearch('');
    studio.setFilters(NO_FILTERS);
  };
  const filtered = hasFilters(filters);
  const jobs = history.ids.map((id) => studio.cache.get(id)).filter((job) => job !== undefined);

  return html`<section class="history" aria-labelledby="history-title" data-testid="history">
    <header class="section-head">
      <h2 id="history-title">History</h2>
      <span class="section-head__count" aria-live="polite" data-testid="history-count">
        ${history.totalCount == null ? '' : plural(history.totalCount, 'video')}
      </span>
      <span class="spacer"></span>
      ${filtered || search ? html`<button type="button" class="btn btn--ghost btn--small" onClick=${clear}>Clear filters</button>` : ''}
    </header>

    <form class="filters" role="search" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <label class="filters__search">
        <${IconSearch} />
        <span class="visually-hidden">Search prompts</span>
        <input
          type="search"
          name="search"
          placeholder="Search prompts"
          autocomplete="off"
          value=${search}
          onInput=${(/** @type {any} */ e) => setSearch(e.currentTarget.value)}
        />
      </label>
      <label class="select">
        <span class="visually-hidden">Status</span>
        <select name="status" value=${filters.status} onChange=${(/** @type {any} */ e) => set({ status: e.currentTarget.value })}>
          <option value="">Any status</option>
          <option value="ACTIVE">Running</option>
          <option value="SUCCEEDED">Ready</option>
          <option value="FAILED">Failed</option>
          <option value="CANCELED">Canceled</option>
        </select>
      </label>
      <label class="select">
        <span class="visually-hidden">Size</span>
        <select name="size" value=${filters.size} onChange=${(/** @type {any} */ e) => set({ size: e.currentTarget.value })}>
          <option value="">Any size</option>
          ${(model.sizes ?? []).map(
            (/** @type {any} */ option) =>
              html`<option value=${option.size}>${SIZES[option.size]?.label ?? option.size}</option>`,
          )}
        </select>
      </label>
      <label class="select">
        <span class="visually-hidden">Duration</span>
        <select name="duration" value=${filters.duration} onChange=${(/** @type {any} */ e) => set({ duration: e.currentTarget.value })}>
          <option value="">Any length</option>
          ${(model.durationsSeconds ?? [5, 10]).map((/** @type {number} */ d) => html`<option value=${String(d)}>${d} seconds</option>`)}
        </select>
      </label>
      <label class="select">
        <span class="visually-hidden">Date</span>
        <select name="date" value=${filters.date} onChange=${(/** @type {any} */ e) => set({ date: e.currentTarget.value })}>
          <option value="">Any time</option>
          <option value="today">Today</option>
          <option value="7d">Last 7 days</option>
          <option value="30d">Last 30 days</option>
          <option value="custom">Between dates…</option>
        </select>
      </label>
      ${filters.date === 'custom'
        ? html`<span class="filters__dates">
            <label>From <input type="date" name="from" value=${filters.from} onChange=${(/** @type {any} */ e) => set({ from: e.currentTarget.value })} /></label>
            <label>To <input type="date" name="to" value=${filters.to} onChange=${(/** @type {any} */ e) => set({ to: e.currentTarget.value })} /></label>
          </span>`
        : ''}
    </form>

    ${history.status === 'loading'
      ? html`<div class="card-grid" aria-busy="true" aria-label="Loading history">
          ${[0, 1, 2, 3, 4, 5].map((i) => html`<div key=${i} class="job-card job-card--skeleton" aria-hidden="true"><div class="media"></div><div class="job-card__body"></div></div>`)}
        </div>`
      : history.status === 'error'
        ? html`<div class="state state--error" role="alert">
            <${IconAlert} />
            <p><strong>The history could not be loaded.</strong> ${history.error}</p>
            <button type="button" class="btn" onClick=${() => studio.reloadHistory()}>Try again</button>
          </div>`
        : jobs.length === 0
          ? html`<div class="state" data-testid="history-empty">
              <${IconFilm} />
              ${filtered
                ? html`<p><strong>No videos match these filters.</strong></p>
                    <button type="button" class="btn" onClick=${clear}>Clear filters</button>`
                : html`<p><strong>No videos yet.</strong> Describe a scene, press Generate, and it appears here.</p>`}
            </div>`
          : html`<div class="card-grid" data-testid="history-grid">
              ${jobs.map((job) => html`<${JobCard} key=${job.id} job=${job} />`)}
            </div>`}

    <div class="history__end" ref=${sentinel}>
      ${history.loadingMore
        ? html`<span class="spinner" aria-hidden="true"></span> Loading more…`
        : history.error && history.status === 'ready'
          ? html`<span role="alert">${history.error}</span>
              <button type="button" class="btn btn--small" onClick=${() => studio.loadMore()}>Try again</button>`
          : history.status === 'ready' && history.hasNextPage
            ? html`<button type="button" class="btn btn--ghost btn--small" onClick=${() => studio.loadMore()}>Load more</button>`
            : history.status === 'ready' && jobs.length > 0
              ? html`<span class="muted">That is everything.</span>`
              : ''}
    </div>
  </section>`;
}
