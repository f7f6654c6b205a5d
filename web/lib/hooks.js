// Small hooks shared by the components.
import { useEffect, useState } from 'preact/hooks';

/**
 * Renders again whenever the studio's state changes.
 * @param {import('./studio.js').Studio} studio
 */
export function useStudioState(studio) {
  const [, setRevision] = useState(0);
  useEffect(() => studio.subscribe(() => setRevision((n) => n + 1)), [studio]);
  return studio.state;
}

/**
 * The current time, refreshed every `ms` while `enabled` (running jobs tick; finished ones do not).
 * @param {number} ms
 * @param {boolean} [enabled]
 */
export function useNow(ms, enabled = true) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!enabled) return undefined;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms, enabled]);
  return now;
}

const JOB_ROUTE = /^#\/jobs\/([^/?#]+)$/;

/** The job id in the address (`#/jobs/<id>`), or null. */
export function useJobRoute() {
  const [jobId, setJobId] = useState(() => jobIdFromHash());
  useEffect(() => {
    const update = () => setJobId(jobIdFromHash());
    window.addEventListener('hashchange', update);
    window.addEventListener('studio:route', update);
    return () => {
      window.removeEventListener('hashchange', update);
      window.removeEventListener('studio:route', update);
    };
  }, []);
  return jobId;
}

function jobIdFromHash() {
  const match = JOB_ROUTE.exec(window.location.hash);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

/** @param {string} id */
export const jobHref = (id) => `#/jobs/${encodeURIComponent(id)}`;

let openedInApp = false;

/** Marks the next job route as pushed by a click in the page, so closing it can go back instead. */
export function noteInAppNavigation() {
  openedInApp = true;
}

/** @param {string} id */
export function openJob(id) {
  openedInApp = true;
  window.location.hash = jobHref(id);
}

/** Leaves the detail view: back where the page was when it was opened from the page, else just drop the hash. */
export function closeJob() {
  if (openedInApp) {
    openedInApp = false;
    window.history.back();
    return;
  }
  window.history.replaceState(window.history.state, '', `${window.location.pathname}${window.location.search}`);
  window.dispatchEvent(new Event('studio:route'));
}

/**
 * A value that follows `value` after it stopped changing for `ms`.
 * @template T
 * @param {T} value
 * @param {number} ms
 */
export function useDebounced(value, ms) {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
