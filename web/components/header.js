// The top bar (model, live connection, viewer) and the simulator banner.
import { html } from '../lib/html.js';
import { IconAlert, IconLogout, LogoMark } from './icons.js';

const CONNECTION = {
  connecting: { label: 'Connecting…', tone: 'pending' },
  live: { label: 'Live', tone: 'ok' },
  reconnecting: { label: 'Reconnecting…', tone: 'warn' },
};

/**
 * @param {{ studio: import('../lib/studio.js').Studio }} props
 */
export function Header({ studio }) {
  const { viewer, model, connection } = studio.state;
  const info = CONNECTION[connection] ?? CONNECTION.connecting;
  return html`<header class="topbar">
    <a class="brand" href="/" aria-label="Video Studio, home">
      <${LogoMark} />
      <span class="brand__name">Video Studio</span>
    </a>
    <span class="model-chip" title=${model.id}>${model.name}</span>
    <span class="spacer"></span>
    <span class=${`conn conn--${info.tone}`} role="status" data-testid="connection" data-state=${connection}>
      <span class="conn__dot" aria-hidden="true"></span><span class="conn__label">${info.label}</span>
    </span>
    <span class="viewer" title=${`Signed in as ${viewer.name}`}>
      <span class="viewer__avatar" aria-hidden="true">${viewer.name.slice(0, 1).toUpperCase()}</span>
      <span class="viewer__name" data-testid="viewer-name">${viewer.name}</span>
    </span>
    <button type="button" class="btn btn--ghost btn--small" onClick=${() => studio.signOut()}>
      <${IconLogout} /><span class="hide-narrow">Sign out</span>
    </button>
  </header>`;
}

export function SimulatorBanner() {
  return html`<div class="sim-banner" role="note" data-testid="sim-banner">
    <${IconAlert} />
    <p>
      <strong>Simulator mode:</strong> videos are placeholder clips and no credits are spent.${' '}
      <span class="hide-narrow"
        >No Scenario keys are configured, so the gateway runs against its built-in simulator. Set${' '}
        <code>SCENARIO_SDK_API_KEY</code> and <code>SCENARIO_SDK_API_SECRET</code> to generate for real.</span
      >
    </p>
  </div>`;
}
