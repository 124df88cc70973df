/**
 * Debian's Chromium started headless through playwright-core, the same way by every browser test:
 * a fresh profile folder, no sandbox (tests run as root), and no background traffic of its own, so a
 * test that routes every request sees only what its page asks for. The browser tests skip with
 * {@link chromiumSkip} when either is missing.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { BrowserContext } from 'playwright-core';
import { missingToolMessage } from './tools.js';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** playwright-core (a devDependency), or undefined when it is not installed. */
export const playwright: typeof import('playwright-core') | undefined = await import('playwright-core').catch(
  () => undefined,
);

/** Why the browser tests cannot run here (naming what to install), or undefined when they can. */
export const chromiumSkip: string | undefined =
  playwright === undefined
    ? 'playwright-core is not installed: it is a devDependency (npm i -D -E playwright-core@1.64.1)'
    : !existsSync(CHROMIUM_PATH)
      ? missingToolMessage('chromium')
      : undefined;

/** Options for {@link launchHeadlessChromium}. */
export interface LaunchChromiumOptions {
  /** playwright-core (default: {@link playwright}, the one this module loaded). */
  playwright?: typeof import('playwright-core');
  /** A folder for the browser profile (created here). */
  profileDir: string;
  /** The page size, when the test needs one. */
  viewport?: { width: number; height: number };
}

/** Starts headless Chromium with a persistent context in `profileDir`. */
export async function launchHeadlessChromium({
  playwright: pw = playwright,
  profileDir,
  viewport,
}: LaunchChromiumOptions): Promise<BrowserContext> {
  if (!pw) throw new Error(`cannot start chromium: ${chromiumSkip}`);
  mkdirSync(profileDir, { recursive: true });
  return pw.chromium.launchPersistentContext(profileDir, {
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
