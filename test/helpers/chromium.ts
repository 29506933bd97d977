// Headless Debian chromium driven by playwright-core, for tests of the web page. A fresh, empty
// profile per session; every request that leaves loopback is blocked and recorded (the page must work
// offline); console errors and uncaught page errors are collected for the test to assert on.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium package; CHROMIUM_PATH overrides it (another distribution's binary). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** console messages of type error, and uncaught exceptions in the page */
  errors: string[];
  /** URLs the page tried to load from anywhere but loopback (all were aborted) */
  blocked: string[];
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** null when chromium is not installed: the caller skips with a message naming CHROMIUM_PATH. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM_PATH) ? null : `chromium not found at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;
}

const LOOPBACK = /^(?:https?|wss?):\/\/(?:127\.0\.0\.1|\[::1\]|localhost)(?::\d+)?\//;

/** Launches chromium with an empty temp profile; closed and removed at `t`'s teardown, also on failure. */
export async function openBrowser(t: Teardown, viewport = { width: 1280, height: 1100 }): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), 'flowbridge-chromium-'));
  let context: BrowserContext | undefined;
  t.teardown(async () => {
    await context?.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  });
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport,
    timeout: 30_000,
  });
  const errors: string[] = [];
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (LOOPBACK.test(url) || url.startsWith('data:')) return route.continue();
    blocked.push(url);
    return route.abort('internetdisconnected');
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return { context, page, errors, blocked };
}

/** test-output/<name>/ in the repository (gitignored), created if needed. */
export function outputDir(name: string): string {
  const dir = join(fileURLToPath(new URL('../../test-output/', import.meta.url)), name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
