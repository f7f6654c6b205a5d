// Browser tests of the studio: Debian's Chromium driven by playwright-core (never a downloaded browser), against a
// whole gateway from buildApp (test/helpers/api-harness.ts).
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { newTimeOrderedId } from '../../src/domain/ids.ts';
import type { VideoSize } from '../../src/domain/video-job.ts';
import type { Gateway } from './api-harness.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM_PATH);

/** Flags for a headless Chromium on a machine whose only network is loopback: no background connections, no updates. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Let a muted <video> play without a user gesture.
  '--autoplay-policy=no-user-gesture-required',
];

/** Playwright gives every launch a new, empty user-data-dir of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

export const DESKTOP: BrowserContextOptions = { viewport: { width: 1400, height: 900 } };
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};

/** Where screenshots go: STUDIO_SCREENSHOTS_DIR (e.g. docs/screenshots when refreshing the docs), else a temp dir. */
export function screenshotDir(): string {
  const configured = process.env.STUDIO_SCREENSHOTS_DIR;
  const dir = configured ? (isAbsolute(configured) ? configured : resolve(configured)) : join(tmpdir(), 'studio-screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface PageProblems {
  /** Uncaught exceptions in the page. */
  pageErrors: string[];
  /** Console messages about the Content-Security-Policy (a refused script, style or connection). */
  cspViolations: string[];
  consoleErrors: string[];
}

/** Collects what should never happen in the page. */
export function watchPage(page: Page): PageProblems {
  const problems: PageProblems = { pageErrors: [], cspViolations: [], consoleErrors: [] };
  page.on('pageerror', (error) => problems.pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const text = message.text();
    if (/Content.Security.Policy/i.test(text)) problems.cspViolations.push(text);
    if (message.type() === 'error') problems.consoleErrors.push(text);
  });
  return problems;
}

/** The startup link for `user`, as src/main.ts prints it. */
export async function studioLink(gateway: Gateway, user = 'alice'): Promise<string> {
  const { token } = await gateway.login(user);
  return `${gateway.url}/?token=${encodeURIComponent(token)}`;
}

/**
 * Finished jobs written straight into the store (no engine, no upstream): history rows for filters and paging.
 * The job is created and closed in consecutive awaits without I/O, so the scheduler never sees it unfinished.
 */
export async function addFinishedJobs(
  gateway: Gateway,
  owner: string,
  count: number,
  params: { prompt?: (i: number) => string; size?: VideoSize; durationSeconds?: number } = {},
): Promise<string[]> {
  const { user } = await gateway.login(owner);
  const store = gateway.running.store;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const created = await store.createJob(
      {
        id: newTimeOrderedId(),
        ownerId: user.id,
        idempotencyKey: null,
        prompt: params.prompt?.(i) ?? `Archive clip ${i}`,
        negativePrompt: null,
        size: params.size ?? 'LANDSCAPE_720P',
        durationSeconds: params.durationSeconds ?? 5,
        enablePromptExpansion: true,
        seed: 1000 + i,
        seedDrawn: false,
        audioId: null,
      },
      { maxActiveJobs: 1_000_000 },
    );
    if (created.kind !== 'created') throw new Error(`job not created: ${created.kind}`);
    await store.updateJob(created.job.id, { status: 'CANCELED', phase: 'done', nextCheckAt: null, completedAt: Date.now() });
    ids.push(created.job.id);
  }
  return ids;
}

/** The ids of the job cards in a part of the page (`tray` or `history`), in order. */
export function cardIds(page: Page, section: 'tray' | 'history'): Promise<string[]> {
  return page.$$eval(`[data-testid=${section}] [data-job-id]`, (cards) => cards.map((card) => (card as HTMLElement).dataset.jobId!));
}

/** Waits until a job's card in `section` shows `status`. */
export async function waitForCardStatus(page: Page, section: 'tray' | 'history', jobId: string, status: string, timeout = 30_000): Promise<void> {
  await page.locator(`[data-testid=${section}] [data-job-id="${jobId}"][data-status=${status}]`).waitFor({ timeout });
}
