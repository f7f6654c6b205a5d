// The studio in a real browser (Debian's Chromium through playwright-core) against a whole gateway and its simulator:
// what a person does with it, from the startup link to deleting a video. One gateway and one page for the story,
// in order; fresh browser contexts where a test needs a clean one (bad token, phone screen).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway, waitFor } from './helpers/api-harness.ts';
import {
  CHROMIUM_PATH,
  DESKTOP,
  PHONE,
  addFinishedJobs,
  cardIds,
  hasChromium,
  launchChromium,
  screenshotDir,
  studioLink,
  waitForCardStatus,
  watchPage,
  type PageProblems,
} from './helpers/studio-browser.ts';

if (!hasChromium) {
  console.warn(
    `studio-browser.test.ts: SKIPPED, ${CHROMIUM_PATH} is missing (install Debian's "chromium" package; .ci/run does it). ` +
      'The studio was NOT tested in a browser.',
  );
}

const AUDIO_4S = fileURLToPath(new URL('./fixtures/audio/tone-4s.wav', import.meta.url));
const AUDIO_40S = fileURLToPath(new URL('./fixtures/audio/tone-40s.mp3', import.meta.url));

describe.skipIf(!hasChromium)('studio in Chromium', () => {
  let gateway: Gateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: PageProblems;
  const mediaResponses: Response[] = [];
  const shots = screenshotDir();
  /** The job generated from the form, followed through several tests. */
  let foxId = '';

  beforeAll(async () => {
    gateway = await Gateway.start({
      SIMULATOR_JOB_SECONDS: '3',
      // One job upstream at a time: a `[sim:never]` job holds the slot, so the next one waits as PENDING (cancelable).
      UPSTREAM_MAX_IN_FLIGHT: '1',
    });
    browser = await launchChromium();
    context = await browser.newContext(DESKTOP);
    // A missing element fails the test with its selector, well before the test's own timeout.
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    problems = watchPage(page);
    page.on('response', (response) => {
      if (new URL(response.url()).pathname.startsWith('/media/')) mediaResponses.push(response);
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  const tray = () => page.getByTestId('tray');
  const history = () => page.getByTestId('history');
  const detail = () => page.getByTestId('detail');

  it('signs in from the startup link and removes the token from the address bar', async () => {
    const { token } = await gateway.login('alice');
    await page.goto(await studioLink(gateway));
    await page.getByTestId('viewer-name').waitFor();
    expect(await page.getByTestId('viewer-name').textContent()).toBe('alice');
    expect(page.url()).toBe(`${gateway.url}/`);
    expect(await page.evaluate(() => window.location.search)).toBe('');
    expect(await page.evaluate(() => window.localStorage.getItem('gatewayToken'))).toBe(token);
    // Simulator mode says so, and the live connection comes up.
    expect(await page.getByTestId('sim-banner').isVisible()).toBe(true);
    await page.locator('[data-testid=connection][data-state=live]').waitFor();
    await page.getByTestId('history-empty').waitFor();
    await page.screenshot({ path: join(shots, 'studio-empty.png') });
  });

  it('refuses a bad token from a link and says why, without keeping it in the address bar', async () => {
    const other = await browser.newContext(DESKTOP);
    other.setDefaultTimeout(15_000);
    try {
      const fresh = await other.newPage();
      await fresh.goto(`${gateway.url}/?token=not-a-real-token`);
      await fresh.getByTestId('signin-error').waitFor();
      expect(await fresh.getByTestId('signin-error').textContent()).toContain('not accepted');
      expect(fresh.url()).toBe(`${gateway.url}/`);
      expect(await fresh.evaluate(() => window.localStorage.getItem('gatewayToken'))).toBeNull();
      // The form signs in with a good token.
      await fresh.fill('#token', (await gateway.login('bob')).token);
      await fresh.getByRole('button', { name: 'Sign in' }).click();
      await fresh.getByTestId('viewer-name').waitFor();
      expect(await fresh.getByTestId('viewer-name').textContent()).toBe('bob');
    } finally {
      await other.close();
    }
  });

  it('shows ValidationError field errors next to their fields', async () => {
    const maxPromptLength = (await gateway.data('{ videoModel { maxPromptLength } }')).videoModel.maxPromptLength as number;
    await page.fill('#prompt', 'x'.repeat(maxPromptLength + 1));
    expect(await page.getByTestId('prompt-count').textContent()).toContain(`${maxPromptLength + 1} / ${maxPromptLength}`);
    expect(await page.getByTestId('prompt-count').getAttribute('class')).toContain('is-over');
    await page.fill('#seed', '-5');
    await page.getByRole('button', { name: 'Generate video' }).click();

    const promptError = page.locator('[data-field=prompt] [data-testid=prompt-error]');
    await promptError.waitFor();
    expect(await promptError.textContent()).toContain(`at most ${maxPromptLength} characters`);
    expect(await page.locator('#prompt').getAttribute('aria-invalid')).toBe('true');
    const seedError = page.locator('[data-field=seed] [data-testid=seed-error]');
    expect(await seedError.textContent()).toContain('from 0 to 2147483647');
    // The first bad field has the focus; nothing was created.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('prompt');
    expect((await gateway.data('{ videoJobs { totalCount } }')).videoJobs.totalCount).toBe(0);
    await page.screenshot({ path: join(shots, 'studio-field-errors.png') });
    // Editing a field takes its error away; the other stays until the next submit.
    await page.fill('#seed', '7');
    expect(await seedError.count()).toBe(0);
    expect(await promptError.count()).toBe(1);
  });

  it('uploads audio as a multipart request and shows its duration; a refused file gets its error next to the field', async () => {
    await page.setInputFiles('input[type=file][name=audio]', AUDIO_40S);
    const audioError = page.locator('[data-field=audio] [data-testid=audio-error]');
    await audioError.waitFor();
    expect(await audioError.textContent()).toMatch(/30/);

    await page.setInputFiles('input[type=file][name=audio]', AUDIO_4S);
    await page.getByTestId('audio-chip').waitFor();
    expect(await page.getByTestId('audio-duration').textContent()).toContain('4.0 s');
    expect(await audioError.count()).toBe(0);
    await page.getByRole('button', { name: 'Remove the audio' }).click();
    expect(await page.getByTestId('audio-chip').count()).toBe(0);
  });

  it('generates a video with every parameter set and watches its card reach SUCCEEDED live, without layout jumps', async () => {
    await page.fill('#prompt', 'A red fox running through fresh snow at dawn, cinematic');
    await page.fill('#negative-prompt', 'blur, watermark');
    // The radios are drawn as tiles: a person clicks the tile.
    await page.locator('label.size-tile', { has: page.locator('input[value=PORTRAIT_720P]') }).click();
    await page.locator('label.segmented__option', { hasText: '10 s' }).click();
    expect(await page.getByRole('radio', { name: /9:16 720p/ }).isChecked()).toBe(true);
    expect(await page.getByRole('radio', { name: '10 s' }).isChecked()).toBe(true);
    await page.fill('#seed', '12345');
    await page.getByRole('switch', { name: 'Prompt expansion' }).uncheck();
    // Record every state the tray's cards go through, and the height of each card, as the page renders them.
    await page.evaluate(() => {
      const seen: string[] = [];
      const heights = new Set<number>();
      (window as any).__seen = seen;
      (window as any).__heights = heights;
      new MutationObserver(() => {
        for (const card of document.querySelectorAll<HTMLElement>('[data-testid=tray] [data-job-id]')) {
          const bar = card.querySelector('[role=progressbar]');
          seen.push(`${card.dataset.status}:${bar?.getAttribute('aria-valuenow')}:${card.querySelector('[data-testid=status-line]')?.textContent}`);
          heights.add(Math.round(card.getBoundingClientRect().height));
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    await page.getByRole('button', { name: 'Generate video' }).click();

    const card = tray().locator('[data-job-id]').first();
    await card.waitFor();
    foxId = (await card.getAttribute('data-job-id'))!;
    await waitForCardStatus(page, 'tray', foxId, 'SUCCEEDED');

    const seen: string[] = await page.evaluate(() => (window as any).__seen);
    const statuses = new Set(seen.map((s) => s.split(':')[0]));
    expect(statuses.has('SUCCEEDED')).toBe(true);
    expect([...statuses].some((s) => s === 'QUEUED' || s === 'IN_PROGRESS')).toBe(true);
    // Progress moved between 0 and 100 while it ran, and the card kept its height through every update.
    expect(seen.some((s) => /^IN_PROGRESS:(\d+):/.test(s) && Number(s.split(':')[1]) > 0 && Number(s.split(':')[1]) < 100)).toBe(true);
    expect(await page.evaluate(() => [...(window as any).__heights])).toHaveLength(1);

    const job = await gateway.job(foxId, 'alice', 'size durationSeconds seed enablePromptExpansion negativePrompt status');
    expect(job).toMatchObject({
      size: 'PORTRAIT_720P',
      durationSeconds: 10,
      seed: 12345,
      enablePromptExpansion: false,
      negativePrompt: 'blur, watermark',
      status: 'SUCCEEDED',
    });
    // The history got it live too, newest first.
    await waitForCardStatus(page, 'history', foxId, 'SUCCEEDED');
    expect((await cardIds(page, 'history'))[0]).toBe(foxId);
  });

  it('plays the video in the detail view from its gateway URL, seeks through Range requests, and shows the timeline and cost', async () => {
    await tray().locator(`[data-job-id="${foxId}"] a`).click();
    await detail().waitFor();
    expect(new URL(page.url()).hash).toBe(`#/jobs/${encodeURIComponent(foxId)}`);
    const player = page.getByTestId('player');
    await player.waitFor();
    const src = (await player.getAttribute('src'))!;
    expect(new URL(src).pathname).toMatch(/^\/media\//);

    await page.waitForFunction(() => {
      const video = document.querySelector<HTMLVideoElement>('[data-testid=player]');
      return video !== null && video.readyState >= 1 && video.duration > 0;
    });
    const duration = await player.evaluate((v: HTMLVideoElement) => v.duration);
    expect(duration).toBeGreaterThan(9);
    const seekedTo = await player.evaluate(
      (v: HTMLVideoElement) =>
        new Promise<number>((resolve) => {
          v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
          v.currentTime = 7.5;
        }),
    );
    expect(seekedTo).toBeGreaterThan(7);
    const played = await player.evaluate(async (v: HTMLVideoElement) => {
      v.muted = true;
      v.currentTime = 1;
      await v.play();
      const start = v.currentTime;
      await new Promise((r) => setTimeout(r, 600));
      v.pause();
      return v.currentTime - start;
    });
    expect(played).toBeGreaterThan(0);
    const partial = mediaResponses.filter((r) => r.status() === 206 && r.url().startsWith(src.split('?')[0]!));
    expect(partial.length).toBeGreaterThan(0);
    expect(partial[0]!.headers()['content-range']).toMatch(/^bytes \d+-\d+\/\d+$/);

    expect(await page.locator('[data-testid=timeline] li').count()).toBeGreaterThanOrEqual(3);
    expect(await page.getByTestId('cost').textContent()).toMatch(/CU/);
    expect(await page.getByTestId('seed').textContent()).toContain('12345');
    expect(await page.getByTestId('download').getAttribute('href')).toBe(src);
    await page.screenshot({ path: join(shots, 'studio-detail.png') });
  });

  it('"generate again with this seed" fills the form with the job\'s parameters', async () => {
    await page.getByTestId('generate-again').click();
    await detail().waitFor({ state: 'detached' });
    expect(new URL(page.url()).hash).toBe('');
    expect(await page.inputValue('#seed')).toBe('12345');
    expect(await page.inputValue('#prompt')).toBe('A red fox running through fresh snow at dawn, cinematic');
    expect(await page.getByRole('radio', { name: /9:16 720p/ }).isChecked()).toBe(true);
    expect(await page.getByRole('radio', { name: '10 s' }).isChecked()).toBe(true);
    expect(await page.getByRole('switch', { name: 'Prompt expansion' }).isChecked()).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('prompt');
  });

  it('filters and searches the history, with live arrivals and an empty state', async () => {
    // Two jobs started elsewhere (the API): they appear live, without a reload.
    const lavender = await gateway.generate({ prompt: 'Sunset over lavender fields, slow pan', size: 'LANDSCAPE_1080P' });
    const failing = await gateway.generate({ prompt: 'A robot dancing in the rain [sim:fail]' });
    await waitForCardStatus(page, 'history', lavender.job.id, 'SUCCEEDED');
    await waitForCardStatus(page, 'history', failing.job.id, 'FAILED');

    await page.fill('input[type=search]', 'LAVENDER');
    await waitFor(async () => (await cardIds(page, 'history')).join() === lavender.job.id, 10_000, 'search result');
    expect(await page.getByTestId('history-count').textContent()).toBe('1 video');
    await page.screenshot({ path: join(shots, 'studio-search.png') });
    await page.fill('input[type=search]', '');

    await page.selectOption('select[name=status]', 'FAILED');
    await waitFor(async () => (await cardIds(page, 'history')).join() === failing.job.id, 10_000, 'status filter');
    await page.selectOption('select[name=status]', '');

    await page.selectOption('select[name=size]', 'LANDSCAPE_1080P');
    await waitFor(async () => (await cardIds(page, 'history')).join() === lavender.job.id, 10_000, 'size filter');
    await page.selectOption('select[name=size]', '');

    await page.selectOption('select[name=duration]', '10');
    await waitFor(async () => (await cardIds(page, 'history')).join() === foxId, 10_000, 'duration filter');
    await page.selectOption('select[name=duration]', '');

    await page.selectOption('select[name=date]', '7d');
    await waitFor(async () => (await cardIds(page, 'history')).length === 3, 10_000, 'date filter');
    await page.selectOption('select[name=date]', 'custom');
    await page.fill('input[name=from]', '2020-01-01');
    await page.fill('input[name=to]', '2020-01-31');
    await page.getByTestId('history-empty').waitFor();
    expect(await page.getByTestId('history-empty').textContent()).toContain('No videos match these filters');
    await page.getByTestId('history-empty').getByRole('button', { name: 'Clear filters' }).click();
    await waitFor(async () => (await cardIds(page, 'history')).length === 3, 10_000, 'filters cleared');
    expect(await cardIds(page, 'history')).toEqual([failing.job.id, lavender.job.id, foxId]);
  });

  it('loads older history pages by infinite scroll', async () => {
    await addFinishedJobs(gateway, 'alice', 40, { prompt: (i) => `Archive clip number ${i}` });
    await page.reload();
    await page.getByTestId('history-grid').waitFor();
    const total = (await gateway.data('{ videoJobs { totalCount } }')).videoJobs.totalCount as number;
    expect(total).toBe(43);
    expect(await page.getByTestId('history-count').textContent()).toBe('43 videos');
    expect((await cardIds(page, 'history')).length).toBeLessThan(total);
    await waitFor(async () => {
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      return (await cardIds(page, 'history')).length === total;
    }, 15_000, 'every page');
    const ids = await cardIds(page, 'history');
    expect(new Set(ids).size).toBe(total);
    expect(await page.locator('.history__end').textContent()).toContain('That is everything');
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it('keeps the session and the live cards across a reload', async () => {
    const before = await cardIds(page, 'tray');
    expect(before).toContain(foxId);
    const started = await gateway.generate({ prompt: 'Paper boats drifting on a canal' });
    await tray().locator(`[data-job-id="${started.job.id}"]`).waitFor();
    await page.reload();
    await page.getByTestId('viewer-name').waitFor();
    // The running job and the finished ones the tray showed come back.
    await tray().locator(`[data-job-id="${started.job.id}"]`).waitFor();
    expect(await cardIds(page, 'tray')).toEqual(expect.arrayContaining([...before, started.job.id]));
    await waitForCardStatus(page, 'tray', started.job.id, 'SUCCEEDED');
  });

  it('catches up after a dropped connection: a job that finished meanwhile shows its final state', async () => {
    await page.locator('[data-testid=connection][data-state=live]').waitFor();
    const started = await gateway.generate({ prompt: 'Northern lights over a frozen lake' });
    await tray().locator(`[data-job-id="${started.job.id}"]`).waitFor();
    await context.setOffline(true);
    await page.locator('[data-testid=connection][data-state=reconnecting]').waitFor({ timeout: 20_000 });
    await gateway.waitForStatus(started.job.id, ['SUCCEEDED']);
    // Nothing can reach the page while it is offline.
    expect(await tray().locator(`[data-job-id="${started.job.id}"]`).getAttribute('data-status')).not.toBe('SUCCEEDED');
    await context.setOffline(false);
    await page.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 20_000 });
    await waitForCardStatus(page, 'tray', started.job.id, 'SUCCEEDED', 10_000);
    await waitForCardStatus(page, 'history', started.job.id, 'SUCCEEDED', 10_000);
  });

  it('opens a card with the keyboard and closes the detail view with Escape', async () => {
    await tray().locator(`[data-job-id="${foxId}"] a`).focus();
    await page.keyboard.press('Enter');
    await detail().waitFor();
    await page.keyboard.press('Escape');
    await detail().waitFor({ state: 'detached' });
    expect(new URL(page.url()).hash).toBe('');
  });

  it('deletes a job only after confirmation', async () => {
    await tray().locator(`[data-job-id="${foxId}"] a`).click();
    await detail().waitFor();
    await page.getByTestId('delete').click();
    await page.getByRole('dialog', { name: 'Delete this video?' }).waitFor();
    await page.getByRole('button', { name: 'Keep it' }).click();
    await page.getByRole('dialog', { name: 'Delete this video?' }).waitFor({ state: 'detached' });
    expect(await gateway.job(foxId)).not.toBeNull();

    await page.getByTestId('delete').click();
    await page.getByTestId('confirm-delete').click();
    await detail().waitFor({ state: 'detached' });
    await waitFor(async () => !(await cardIds(page, 'history')).includes(foxId), 10_000, 'card removed');
    expect(await cardIds(page, 'tray')).not.toContain(foxId);
    expect(await gateway.job(foxId)).toBeNull();
  });

  it('cancel: explains why a job sent upstream cannot be canceled, and cancels one still waiting in the queue', async () => {
    // A job that runs for ever upstream holds the only slot…
    await page.fill('#prompt', 'Endless ocean waves at night [sim:never]');
    await page.fill('#seed', '');
    await page.getByRole('button', { name: 'Generate video' }).click();
    const endless = await waitFor(async () => {
      const jobs = (await gateway.data('{ videoJobs(filter: { search: "Endless ocean" }) { edges { node { id status } } } }')).videoJobs.edges;
      return jobs.length === 1 && jobs[0].node.status === 'IN_PROGRESS' ? jobs[0].node.id : null;
    }, 20_000, 'the endless job to run');
    await waitForCardStatus(page, 'tray', endless, 'IN_PROGRESS');
    await tray().locator(`[data-job-id="${endless}"] a`).click();
    await detail().waitFor();
    await page.getByTestId('cancel').click();
    const refused = page.getByTestId('cancel-refused');
    await refused.waitFor();
    expect(await refused.textContent()).toContain('cannot be canceled');
    expect(await refused.textContent()).toContain('Upstream refused');
    await page.screenshot({ path: join(shots, 'studio-cancel-refused.png') });
    await page.getByRole('button', { name: 'Close' }).click();
    await detail().waitFor({ state: 'detached' });

    // …so the next one waits in the gateway's queue, where it can be canceled.
    await page.fill('#prompt', 'Hot air balloons drifting over Cappadocia at sunrise');
    await page.getByRole('button', { name: 'Generate video' }).click();
    const queued = await waitFor(async () => {
      const jobs = (await gateway.data('{ videoJobs(filter: { search: "Cappadocia" }) { edges { node { id } } } }')).videoJobs.edges;
      return jobs[0]?.node.id as string | undefined;
    }, 10_000, 'the queued job');
    await tray().locator(`[data-job-id="${queued}"][data-status=PENDING] [data-testid=status-line]`, { hasText: 'gateway queue · #1' }).waitFor();
    await tray().locator(`[data-job-id="${queued}"] a`).click();
    await detail().waitFor();
    await page.getByTestId('cancel').click();
    await waitForCardStatus(page, 'tray', queued, 'CANCELED', 10_000);
    expect((await gateway.job(queued)).status).toBe('CANCELED');
    await page.getByRole('button', { name: 'Close' }).click();
    await page.evaluate(() => {
      document.querySelectorAll<HTMLButtonElement>('.toasts button').forEach((button) => button.click());
      (document.activeElement as HTMLElement | null)?.blur();
      document.querySelector('.layout__compose')?.scrollTo(0, 0);
      window.scrollTo(0, 0);
    });
    await page.screenshot({ path: join(shots, 'studio-desktop.png') });
  });

  it('reads well on a phone screen: one column, no horizontal scrolling, controls at full size', async () => {
    const phone = await browser.newContext(PHONE);
    phone.setDefaultTimeout(15_000);
    try {
      const mobile = await phone.newPage();
      const mobileProblems = watchPage(mobile);
      await mobile.goto(await studioLink(gateway));
      await mobile.getByTestId('history-grid').waitFor();
      await mobile.getByTestId('tray').locator('[data-job-id]').first().waitFor();

      const layout = await mobile.evaluate(() => {
        const box = (selector: string) => document.querySelector(selector)!.getBoundingClientRect();
        const tiles = [...document.querySelectorAll('.size-tile')].map((t) => Math.round(t.getBoundingClientRect().top));
        const blocks = '.topbar, .sim-banner, .compose, .tray, .history, .job-card, .filters > *, .field, .size-tile';
        const wide = [...document.querySelectorAll<HTMLElement>(blocks)].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5);
        return {
          viewport: window.innerWidth,
          scrollWidth: document.documentElement.scrollWidth,
          compose: box('.compose'),
          feed: box('.layout__feed'),
          submit: box('button[type=submit]'),
          tileRows: new Set(tiles).size,
          fontSize: parseFloat(getComputedStyle(document.body).fontSize),
          overflowing: wide.map((el) => el.className).slice(0, 5),
        };
      });
      expect(layout.scrollWidth).toBeLessThanOrEqual(layout.viewport);
      expect(layout.overflowing).toEqual([]);
      // One column: the feed starts below the form, and both use the screen's width.
      expect(layout.feed.top).toBeGreaterThan(layout.compose.bottom);
      expect(layout.compose.width).toBeGreaterThan(layout.viewport - 40);
      expect(layout.submit.height).toBeGreaterThanOrEqual(44);
      expect(layout.tileRows).toBe(1);
      expect(layout.fontSize).toBeGreaterThanOrEqual(14);
      await mobile.screenshot({ path: join(shots, 'studio-phone.png') });
      await mobile.evaluate(() => document.getElementById('tray-title')!.scrollIntoView({ block: 'start' }));
      await mobile.screenshot({ path: join(shots, 'studio-phone-jobs.png') });

      await mobile.getByTestId('history').locator('[data-status=SUCCEEDED] a').first().click();
      await mobile.getByTestId('player').waitFor();
      const dialog = await mobile.getByTestId('detail').boundingBox();
      expect(dialog!.width).toBeGreaterThanOrEqual(389);
      expect(await mobile.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await mobile.screenshot({ path: join(shots, 'studio-phone-detail.png') });
      expect(mobileProblems.pageErrors).toEqual([]);
      expect(mobileProblems.cspViolations).toEqual([]);
    } finally {
      await phone.close();
    }
  });

  it('had no script errors and no Content-Security-Policy violations', () => {
    expect(problems.pageErrors).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
  });

  afterAll(() => {
    if (!process.env.STUDIO_SCREENSHOTS_DIR) rmSync(shots, { recursive: true, force: true });
  });
});
