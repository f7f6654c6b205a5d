// Sign-in with an API token (the startup link does this by itself).
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { LogoMark } from './icons.js';

/**
 * @param {{ message?: string | null, busy?: boolean, onSubmit: (token: string) => void }} props
 */
export function SignIn({ message, busy = false, onSubmit }) {
  const [token, setToken] = useState('');
  const input = useRef(/** @type {HTMLInputElement | null} */ (null));
  useEffect(() => input.current?.focus(), []);
  return html`<main class="signin">
    <form
      class="panel signin__panel"
      onSubmit=${(/** @type {Event} */ e) => {
        e.preventDefault();
        if (token.trim()) onSubmit(token.trim());
      }}
    >
      <div class="signin__brand"><${LogoMark} /> <span>Video Studio</span></div>
      <h1>Sign in</h1>
      <p class="muted">Generate, watch and browse AI videos (Wan 2.5) through this gateway.</p>
      <label for="token" class="field__label">API token</label>
      <input
        id="token"
        ref=${input}
        type="password"
        name="token"
        autocomplete="off"
        spellcheck="false"
        value=${token}
        onInput=${(/** @type {any} */ e) => setToken(e.currentTarget.value)}
        aria-invalid=${message ? 'true' : undefined}
        aria-describedby=${message ? 'signin-error signin-help' : 'signin-help'}
      />
      ${message ? html`<p class="field__error" id="signin-error" role="alert" data-testid="signin-error">${message}</p>` : ''}
      <button type="submit" class="btn btn--primary btn--large" disabled=${busy || !token.trim()}>
        ${busy ? html`<span class="spinner" aria-hidden="true"></span> Checking…` : 'Sign in'}
      </button>
      <p class="signin__help muted" id="signin-help">
        Open the studio link the gateway printed when it first started, or create a token:${' '}
        <code>${'npm run token -- create <name>'}</code>
      </p>
    </form>
  </main>`;
}
