// The API token: taken from the startup link (`/?token=…`, then removed from the address bar), kept in localStorage.
const TOKEN_KEY = 'gatewayToken';

/**
 * Reads `token` from the address and removes it at once with history.replaceState, so it is neither shown,
 * bookmarked, nor kept in the browser's history. Other query parameters and the hash stay.
 * @returns {string | null}
 */
export function takeTokenFromUrl() {
  const url = new URL(window.location.href);
  if (!url.searchParams.has('token')) return null;
  const token = (url.searchParams.get('token') ?? '').trim();
  url.searchParams.delete('token');
  window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
  return token || null;
}

/** @returns {string | null} */
export function storedToken() {
  try {
    return window.localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** @param {string} token */
export function storeToken(token) {
  try {
    window.localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Private mode without storage: the session lasts as long as the page.
  }
}

export function clearToken() {
  try {
    window.localStorage.removeItem(TOKEN_KEY);
  } catch {
    // nothing stored
  }
}

/**
 * Small per-user preferences and state (the live tray's job ids), namespaced by the viewer's id.
 * @template T
 * @param {string} key
 * @param {T} fallback
 * @returns {T}
 */
export function loadLocal(key, fallback) {
  try {
    const text = window.localStorage.getItem(`studio.${key}`);
    return text === null ? fallback : JSON.parse(text);
  } catch {
    return fallback;
  }
}

/**
 * @param {string} key
 * @param {unknown} value
 */
export function saveLocal(key, value) {
  try {
    window.localStorage.setItem(`studio.${key}`, JSON.stringify(value));
  } catch {
    // storage full or unavailable: only the convenience is lost
  }
}
