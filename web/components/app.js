// The page: sign-in until a token is accepted, then the studio (form, live tray, history, detail view).
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { STUDIO_QUERY } from '../lib/documents.js';
import { ApiError, createApi } from '../lib/graphql.js';
import { useJobRoute, useStudioState } from '../lib/hooks.js';
import { clearToken, storeToken } from '../lib/session.js';
import { Studio, messageOf } from '../lib/studio.js';
import { GenerateForm } from './generate-form.js';
import { Header, SimulatorBanner } from './header.js';
import { History } from './history.js';
import { JobDetail } from './job-detail.js';
import { LiveTray } from './live-tray.js';
import { SignIn } from './sign-in.js';
import { Toasts } from './toasts.js';
import { IconAlert, LogoMark } from './icons.js';

/**
 * @param {{ studio: Studio }} props
 */
function Shell({ studio }) {
  const state = useStudioState(studio);
  const jobId = useJobRoute();
  const running = studio.activeCount();

  useEffect(() => {
    document.title = running > 0 ? `(${running}) Video Studio` : 'Video Studio';
  }, [running]);

  return html`<div class="shell">
    <a class="skip-link" href="#history-title">Skip to the history</a>
    <${Header} studio=${studio} />
    ${state.model.upstream === 'SIMULATED' ? html`<${SimulatorBanner} />` : ''}
    <main class="layout">
      <aside class="layout__compose" aria-label="Create">
        <${GenerateForm} studio=${studio} />
      </aside>
      <div class="layout__feed">
        <${LiveTray} studio=${studio} />
        <${History} studio=${studio} />
      </div>
    </main>
    ${jobId ? html`<${JobDetail} key=${jobId} studio=${studio} jobId=${jobId} />` : ''}
    <${Toasts} studio=${studio} />
  </div>`;
}

/**
 * @param {{ initialToken: string | null, fromLink: boolean }} props
 */
export function App({ initialToken, fromLink }) {
  const [phase, setPhase] = useState(/** @type {'checking' | 'signed-out' | 'unreachable' | 'ready'} */ (initialToken ? 'checking' : 'signed-out'));
  const [message, setMessage] = useState(/** @type {string | null} */ (null));
  const [studio, setStudio] = useState(/** @type {Studio | null} */ (null));
  const pendingToken = useRef(initialToken);
  const current = useRef(/** @type {Studio | null} */ (null));

  /**
   * @param {string} token
   * @param {{ fromLink?: boolean }} [options]
   */
  async function signIn(token, options = {}) {
    setPhase('checking');
    setMessage(null);
    pendingToken.current = token;
    const api = createApi({
      getToken: () => token,
      onUnauthenticated: () => current.current?.signOut('Your token is no longer accepted (it was revoked?). Sign in again.'),
    });
    /** @type {any} */
    let data;
    try {
      data = await api.request(STUDIO_QUERY, {}, { token });
    } catch (error) {
      if (error instanceof ApiError && error.kind === 'unauthenticated') {
        clearToken();
        setMessage(
          options.fromLink
            ? 'The token in that link was not accepted: it is unknown or was revoked.'
            : error.message,
        );
        setPhase('signed-out');
      } else {
        setMessage(messageOf(error));
        setPhase('unreachable');
      }
      return;
    }
    storeToken(token);
    const next = new Studio({
      api,
      token,
      viewer: data.viewer,
      model: data.videoModel,
      onSignedOut: (reason) => {
        clearToken();
        current.current = null;
        setStudio(null);
        setMessage(reason || null);
        setPhase('signed-out');
      },
    });
    current.current = next;
    next.start();
    setStudio(next);
    setPhase('ready');
  }

  useEffect(() => {
    if (initialToken) void signIn(initialToken, { fromLink });
    return () => current.current?.stop();
  }, []);

  if (phase === 'ready' && studio) return html`<${Shell} studio=${studio} />`;
  if (phase === 'checking') {
    return html`<main class="boot" role="status"><${LogoMark} /><span class="spinner" aria-hidden="true"></span> Signing in…</main>`;
  }
  if (phase === 'unreachable') {
    return html`<main class="signin">
      <div class="panel signin__panel" role="alert">
        <div class="signin__brand"><${LogoMark} /> <span>Video Studio</span></div>
        <h1><${IconAlert} /> No answer from the gateway</h1>
        <p>${message}</p>
        <button type="button" class="btn btn--primary btn--large" onClick=${() => pendingToken.current && signIn(pendingToken.current)}>Try again</button>
        <button type="button" class="btn btn--ghost" onClick=${() => {
          clearToken();
          setMessage(null);
          setPhase('signed-out');
        }}>Use another token</button>
      </div>
    </main>`;
  }
  return html`<${SignIn} message=${message} onSubmit=${(/** @type {string} */ token) => signIn(token)} />`;
}
