/**
 * Debian's Chromium started headless through playwright-core, the same way by every browser test:
 * a fresh profile folder, no sandbox (tests run as root), and no background traffic of its own, so a
 * test that routes every request sees only what its page asks for.
 */
import { mkdirSync } from 'node:fs';
import type { BrowserContext } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Options for {@link launchHeadlessChromium}. */
export interface LaunchChromiumOptions {
  /** playwright-core, as the test imported it. */
  playwright: typeof import('playwright-core');
  /** A folder for the browser profile (created here). */
  profileDir: string;
  /** The page size, when the test needs one. */
  viewport?: { width: number; height: number };
}

/** Starts headless Chromium with a persistent context in `profileDir`. */
export async function launchHeadlessChromium({
  playwright,
  profileDir,
  viewport,
}: LaunchChromiumOptions): Promise<BrowserContext> {
  mkdirSync(profileDir, { recursive: true });
  return playwright.chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    ...(viewport ? { viewport } : {}),
  });
}
